package directory

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// maxBatch bounds how many writes share one SQLite transaction.
const maxBatch = 64

// errBatchAborted marks a write whose shared transaction failed for a reason of another
// write's making; the writer then runs it again in a transaction of its own.
var errBatchAborted = errors.New("shared transaction aborted")

// writeReq is one write waiting for the SQLite writer.
type writeReq struct {
	ctx  context.Context
	fn   func(tx *conn) error
	done chan error
}

// batcher is SQLite's group commit. One goroutine owns the write transactions: it takes the
// writes that arrived while the previous transaction was committing, runs each under its own
// SAVEPOINT in one transaction (so a write that fails, such as a uniqueness violation, rolls
// back only its own changes), commits once, and only then answers each write. Durability is
// unchanged, since no write is acknowledged before the COMMIT that holds it is on disk; the
// fsync and the transaction's overhead are shared by every write in it.
type batcher struct {
	s    *sqlStore
	reqs chan *writeReq
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newBatcher(s *sqlStore) *batcher {
	b := &batcher{s: s, reqs: make(chan *writeReq), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

// run hands fn to the writer and waits for the outcome of its transaction.
func (b *batcher) run(ctx context.Context, fn func(tx *conn) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return fmt.Errorf("wait for the writer: %w", ctx.Err())
	case <-b.stop:
		return errors.New("directory is closed")
	}
	// fn belongs to the writer until it answers, so wait for that whatever ctx does; the
	// writer skips writes whose context ended before their turn.
	return <-r.done
}

// close stops the writer after the transaction it is running. Closing twice is allowed.
func (b *batcher) close() {
	b.once.Do(func() { close(b.stop) })
	<-b.done
}

func (b *batcher) loop() {
	defer close(b.done)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		case <-b.stop:
			return
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		b.commit(batch)
		clear(batch)
	}
}

// commit runs a batch in one transaction and answers every write in it. When the shared
// transaction fails as a whole, each write that had succeeded is run again on its own, so one
// write's failure never becomes another's.
func (b *batcher) commit(batch []*writeReq) {
	if len(batch) == 1 {
		r := batch[0]
		r.done <- b.s.runTx(r.ctx, r.fn)
		return
	}
	errs, err := b.shared(batch)
	for i, r := range batch {
		switch {
		case err == nil:
			r.done <- errs[i]
		case errs[i] != nil && !errors.Is(errs[i], errBatchAborted):
			// Failed on its own account; nothing of it was committed either way.
			r.done <- errs[i]
		default:
			r.done <- b.s.runTx(r.ctx, r.fn)
		}
	}
}

// shared runs the batch in one transaction. errs[i] is write i's own error; err is the
// transaction's, in which case nothing was committed.
func (b *batcher) shared(batch []*writeReq) ([]error, error) {
	s := b.s
	errs := make([]error, len(batch))
	// The transaction outlives each request's context; each write's statements use its own.
	tx, err := s.writer.BeginTx(context.Background(), nil)
	if err != nil {
		return errs, fmt.Errorf("begin transaction: %w", err)
	}
	c := &conn{s: s, db: s.writer, tx: tx, stmts: &s.writerStmts}
	ctx := context.Background()
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = fmt.Errorf("wait for the writer: %w", err)
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			_ = tx.Rollback()
			return markAborted(errs), fmt.Errorf("savepoint: %w", err)
		}
		errs[i] = r.fn(c)
		if errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				// The statement that failed ended the whole transaction (an interrupt, a full
				// disk): the other writes go again on their own.
				_ = tx.Rollback()
				return markAborted(errs), fmt.Errorf("roll back to savepoint: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE w"); err != nil {
			_ = tx.Rollback()
			return markAborted(errs), fmt.Errorf("release savepoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return markAborted(errs), s.mapWriteError(fmt.Errorf("commit: %w", err))
	}
	return errs, nil
}

// markAborted marks the writes that had succeeded as aborted with the transaction.
func markAborted(errs []error) []error {
	for i, err := range errs {
		if err == nil {
			errs[i] = errBatchAborted
		}
	}
	return errs
}
