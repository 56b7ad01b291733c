//go:build unix

package main

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// TestSignalContext: the signal that stops a command is its context's
// cause, and the exit status is 128 + its number, as shells report it.
func TestSignalContext(t *testing.T) {
	ctx, stop := signalContext(context.Background(), syscall.SIGUSR1)
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the signal did not cancel the context")
	}
	var sig signalError
	if !errors.As(context.Cause(ctx), &sig) || sig.sig != syscall.SIGUSR1 {
		t.Fatalf("cause %v, want SIGUSR1", context.Cause(ctx))
	}
	if got, want := sig.exitStatus(), 128+int(syscall.SIGUSR1); got != want {
		t.Errorf("exit status %d, want %d", got, want)
	}
	if got := (signalError{syscall.SIGINT}).exitStatus(); got != exitInterrupted {
		t.Errorf("Ctrl-C exits %d, want %d", got, exitInterrupted)
	}
}

// TestSignalContextStop: stop cancels without a signal cause.
func TestSignalContextStop(t *testing.T) {
	ctx, stop := signalContext(context.Background(), syscall.SIGUSR2)
	stop()
	<-ctx.Done()
	if errors.As(context.Cause(ctx), new(signalError)) {
		t.Errorf("cause %v after stop, want no signal", context.Cause(ctx))
	}
}
