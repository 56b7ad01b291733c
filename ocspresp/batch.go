package ocspresp

import (
	"context"
	"math/big"
	"sync"
	"sync/atomic"

	"github.com/certmint/certmint/store"
)

// Source is where the responder learns a certificate's status: the
// issuance database (store.DB). CertStatuses returns the rows of the
// serials it holds, of any CA, read at the time of the call.
type Source interface {
	CertStatuses(ctx context.Context, serials []*big.Int) ([]store.CertStatus, error)
}

// batcher reads certificate statuses for concurrent requests in shared
// queries. A request joins the queue; a reader takes everything queued and
// looks it up in one query (at most store.MaxStatusBatch serials). A query
// starts only after every request it answers arrived, so each answer is
// the database's state at some moment after its request came in: a
// revocation committed before a request arrived is always seen, which is
// what "revoked as soon as `certmint revoke` returns" needs. At most
// readers queries run at once; under load each carries many requests, and
// with one client at a time each request is one query, without waiting.
type batcher struct {
	src     Source
	readers int

	mu      sync.Mutex
	queue   []*lookup
	running int

	serials, queries atomic.Int64
}

type lookup struct {
	serial *big.Int
	rows   []store.CertStatus
	err    error
	done   chan struct{}
}

// get returns the database's rows for serial (any CA's).
func (b *batcher) get(ctx context.Context, serial *big.Int) ([]store.CertStatus, error) {
	l := &lookup{serial: serial, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, l)
	start := b.running < b.readers
	if start {
		b.running++
	}
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case <-l.done:
		return l.rows, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run answers queued lookups until the queue is empty.
func (b *batcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), store.MaxStatusBatch)
		if n == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		if len(b.queue) == 0 {
			b.queue = nil // let the backing array go
		}
		b.mu.Unlock()
		b.answer(batch)
	}
}

func (b *batcher) answer(batch []*lookup) {
	seen := make(map[string]bool, len(batch))
	serials := make([]*big.Int, 0, len(batch))
	for _, l := range batch {
		k := string(l.serial.Bytes())
		if !seen[k] {
			seen[k] = true
			serials = append(serials, l.serial)
		}
	}
	// The lookups' requests may have ended; the query serves the others.
	b.serials.Add(int64(len(batch)))
	b.queries.Add(1)
	rows, err := b.src.CertStatuses(context.Background(), serials)
	bySerial := make(map[string][]store.CertStatus, len(rows))
	for _, r := range rows {
		k := string(r.Serial.Bytes())
		bySerial[k] = append(bySerial[k], r)
	}
	for _, l := range batch {
		l.rows, l.err = bySerial[string(l.serial.Bytes())], err
		close(l.done)
	}
}
