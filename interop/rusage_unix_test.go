//go:build unix

package interop

import (
	"os"
	"syscall"
)

// maxRSS is a finished process's peak resident set in the units the kernel
// reports (KiB on Linux).
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss)
	}
	return 0
}
