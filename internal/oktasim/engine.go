package oktasim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Task kinds of the provisioning engine, named like the entries of Okta's Tasks tab.
const (
	TaskCreateUser     = "create user"
	TaskUpdateUser     = "update user"
	TaskDeactivateUser = "deactivate user"
	TaskReactivateUser = "reactivate user"
	TaskPushGroup      = "push group"
	TaskDeleteGroup    = "delete pushed group"
)

// task is one queued provisioning operation.
type task struct {
	id      int64
	appID   string
	kind    string
	userID  string
	groupID string
	// mappingID and targetID identify a pushed group being deleted.
	mappingID, targetID string
}

// Progress counts an app's provisioning tasks: what was queued, what reached the SCIM
// server successfully, what failed, and what is still waiting.
type Progress struct {
	Total   int `json:"total"`
	Pushed  int `json:"pushed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Pending int `json:"pending"`
}

// engine pushes users and groups to each provisioned app's SCIM base URL, one task at a time.
type engine struct {
	s *Sim

	mu       sync.Mutex
	queue    []*task
	failed   map[int64]*task
	inflight int
	seq      int64
	wake     chan struct{}
	idle     *sync.Cond
	progress map[string]*Progress
	log      []PushRecord
	tokens   map[string]*scimToken
	faults   []*TokenFault
	started  bool
	cancel   context.CancelFunc
	done     chan struct{}

	client *http.Client
}

// scimToken is the access and refresh token the engine holds for one app.
type scimToken struct {
	access  string
	refresh string
	expires time.Time
}

func newEngine(s *Sim) *engine {
	e := &engine{s: s, failed: map[int64]*task{}, wake: make(chan struct{}, 1),
		progress: map[string]*Progress{}, tokens: map[string]*scimToken{},
		client: &http.Client{
			Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}}
	e.idle = sync.NewCond(&e.mu)
	return e
}

func (e *engine) start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return
	}
	e.started = true
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.done = make(chan struct{})
	go e.run(ctx)
}

func (e *engine) stop() {
	e.mu.Lock()
	cancel, done := e.cancel, e.done
	e.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (e *engine) run(ctx context.Context) {
	defer close(e.done)
	for {
		t := e.next()
		if t == nil {
			select {
			case <-ctx.Done():
				return
			case <-e.wake:
				continue
			}
		}
		ok, skipped, err := e.s.process(ctx, t)
		e.finish(t, ok, skipped, err)
	}
}

func (e *engine) next() *task {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.queue) == 0 {
		return nil
	}
	t := e.queue[0]
	e.queue = e.queue[1:]
	e.inflight++
	return t
}

func (e *engine) finish(t *task, ok, skipped bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inflight--
	p := e.progressOf(t.appID)
	p.Pending--
	switch {
	case skipped:
		p.Skipped++
	case ok:
		p.Pushed++
	default:
		p.Failed++
		e.failed[t.id] = t
		if err != nil {
			// The error can carry a SCIM server's detail, which may name a person: only the
			// task is logged; the push log keeps the detail.
			e.s.log.Info("Provisioning task failed", "app", t.appID, "task", t.kind, "pushLogSeq", len(e.log))
		}
	}
	if len(e.queue) == 0 && e.inflight == 0 {
		e.idle.Broadcast()
	}
}

func (e *engine) progressOf(appID string) *Progress {
	p, ok := e.progress[appID]
	if !ok {
		p = &Progress{}
		e.progress[appID] = p
	}
	return p
}

// enqueue adds a task unless an identical one is already waiting.
func (e *engine) enqueue(t *task) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, q := range e.queue {
		if q.appID == t.appID && q.kind == t.kind && q.userID == t.userID && q.groupID == t.groupID &&
			q.mappingID == t.mappingID {
			return
		}
	}
	e.seq++
	t.id = e.seq
	e.queue = append(e.queue, t)
	p := e.progressOf(t.appID)
	p.Total++
	p.Pending++
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// waitIdle blocks until the queue is empty and nothing is in flight, or ctx ends.
func (e *engine) waitIdle(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.idle.Broadcast()
		e.mu.Unlock()
	})
	defer stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for len(e.queue) > 0 || e.inflight > 0 {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for the provisioning queue: %w", ctx.Err())
		}
		e.idle.Wait()
	}
	return nil
}

// The hooks below are called with s.mu held; they only queue work.

func (e *engine) userAssigned(a *app, u *user) {
	if a.provisioning == nil {
		return
	}
	e.enqueue(&task{appID: a.id(), kind: TaskCreateUser, userID: u.ID})
}

func (e *engine) userUnassigned(a *app, u *user) {
	if a.provisioning == nil {
		return
	}
	e.enqueue(&task{appID: a.id(), kind: TaskDeactivateUser, userID: u.ID})
}

func (e *engine) userUpdated(a *app, u *user) {
	if a.provisioning == nil {
		return
	}
	au := a.userAssign[u.ID]
	switch {
	case u.Status == "DEPROVISIONED" || u.Status == "SUSPENDED":
		e.enqueue(&task{appID: a.id(), kind: TaskDeactivateUser, userID: u.ID})
	case au != nil && au.Deactivated:
		e.enqueue(&task{appID: a.id(), kind: TaskReactivateUser, userID: u.ID})
	default:
		e.enqueue(&task{appID: a.id(), kind: TaskUpdateUser, userID: u.ID})
	}
}

func (e *engine) groupMembersChanged(a *app, g *group) {
	if a.provisioning == nil {
		return
	}
	for _, pm := range a.pushMappings {
		if pm.SourceGroupID == g.ID && pm.Status == "ACTIVE" {
			e.enqueue(&task{appID: a.id(), kind: TaskPushGroup, groupID: g.ID, mappingID: pm.ID})
		}
	}
}

// Sync queues a full push for a provisioned app: every assigned user (created or updated),
// every unassigned user still active downstream (deactivated) and every active group push.
func (s *Sim) Sync(appID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(appID)
	if err != nil {
		return err
	}
	if a.provisioning == nil {
		return errProvisioningNotSupported()
	}
	for _, u := range s.usersInOrder() {
		au, ok := a.userAssign[u.ID]
		switch {
		case !ok:
		case au.assigned() && (u.Status == "ACTIVE" || u.Status == "PROVISIONED"):
			if au.ExternalID == "" {
				s.engine.enqueue(&task{appID: a.id(), kind: TaskCreateUser, userID: u.ID})
			} else {
				s.engine.userUpdated(a, u)
			}
		case au.ExternalID != "" && !au.Deactivated:
			s.engine.enqueue(&task{appID: a.id(), kind: TaskDeactivateUser, userID: u.ID})
		}
	}
	for _, pm := range a.pushMappingsInOrder() {
		if pm.Status == "ACTIVE" {
			s.engine.enqueue(
				&task{appID: a.id(), kind: TaskPushGroup, groupID: pm.SourceGroupID, mappingID: pm.ID},
			)
		}
	}
	return nil
}

// WaitIdle blocks until every queued provisioning task has been tried.
func (s *Sim) WaitIdle(ctx context.Context) error { return s.engine.waitIdle(ctx) }

// Progress returns an app's provisioning counts; an empty appID sums every app.
func (s *Sim) Progress(appID string) Progress {
	e := s.engine
	e.mu.Lock()
	defer e.mu.Unlock()
	if appID != "" {
		return *e.progressOf(appID)
	}
	var sum Progress
	for _, p := range e.progress {
		sum.Total += p.Total
		sum.Pushed += p.Pushed
		sum.Failed += p.Failed
		sum.Skipped += p.Skipped
		sum.Pending += p.Pending
	}
	return sum
}

// RetryFailed queues the failed tasks of an app again (all apps when appID is empty), as
// the Retry button of Okta's Tasks tab does; it returns how many were queued.
func (s *Sim) RetryFailed(appID string) int {
	e := s.engine
	e.mu.Lock()
	var again []*task
	for id, t := range e.failed {
		if appID == "" || t.appID == appID {
			again = append(again, t)
			delete(e.failed, id)
			p := e.progressOf(t.appID)
			p.Failed--
			p.Total--
		}
	}
	e.mu.Unlock()
	for _, t := range again {
		e.enqueue(&task{appID: t.appID, kind: t.kind, userID: t.userID, groupID: t.groupID,
			mappingID: t.mappingID, targetID: t.targetID})
	}
	return len(again)
}

var errNotConnected = errors.New("provisioning is not connected")
