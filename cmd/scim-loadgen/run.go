package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// results are everything one run measured.
type results struct {
	opts        options
	machine     string
	started     time.Time
	loadSmall   stats // POSTs filling the small directory
	loadLarge   stats // POSTs filling the large directory
	post        stats // POST slices on the large directory, interleaved with rawInsert slices
	rawInsert   float64
	rawInserted int
	lookupSmall stats // one client, small directory, interleaved with lookupLarge
	lookupLarge stats // one client, large directory
	lookupMax   stats // o.concurrency clients, large directory, interleaved with bare
	bare        stats
	lookupHalf  stats // open loop at half the rate of a burst just before each slice
	halfPlanned float64
	// halfPressure is the share of the open-loop phase in which some task on the machine
	// waited for a CPU (Linux PSI), -1 when unknown.
	halfPressure float64
	mix          map[string]stats
	mixAll       stats
	paging       time.Duration
	pages        int
	onePass      time.Duration
	peakRSS      int64
	loadBefore   string
	loadAfter    string
}

func userName(n int) string { return fmt.Sprintf("officer%07d@agency.example", n) }

func userBody(n int, active bool, rank string) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",`+
		`"urn:ietf:params:scim:schemas:extension:2.0:axon"],`+
		`"userName":%q,"name":{"givenName":"Given%d","familyName":"Family%d"},`+
		`"emails":[{"primary":true,"value":%q,"type":"work"}],`+
		`"displayName":"Given%d Family%d","locale":"en-US","externalId":"00u%07dOKTA",`+
		`"password":"Thr0waway!%d","active":%t,`+
		`"groups":[],"urn:ietf:params:scim:schemas:extension:2.0:axon":{"badgeId":"B%07d","rankName":%q}}`,
		userName(n), n, n, userName(n), n, n, n, n, active, n, rank)
}

// target is one scim-server the run measures.
type server struct {
	proc *process
	base string
}

func (sv *server) load(ctx context.Context, c *client, workers, from, to int) stats {
	next := make(chan int, workers)
	go func() {
		for n := from; n < to; n++ {
			next <- n
		}
		close(next)
	}()
	return c.closedLoop(ctx, workers, time.Hour, to-from, func(int, int) (*http.Request, int) {
		return mustRequest(http.MethodPost, sv.base+"/Users", userBody(<-next, true, "Officer")), http.StatusCreated
	})
}

func (sv *server) lookup(users int) request {
	return func(int, int) (*http.Request, int) {
		f := url.QueryEscape(fmt.Sprintf(`userName eq "%s"`, userName(rand.IntN(users))))
		return mustRequest(http.MethodGet, sv.base+"/Users?filter="+f+"&startIndex=1&count=100", ""), http.StatusOK
	}
}

// interleave runs a and b in turns, slices times each, so load from elsewhere on the machine
// falls on both alike; it returns each side's merged stats.
func interleave(slices int, a, b func() stats) (stats, stats) {
	var as, bs []stats
	for range slices {
		as = append(as, a())
		bs = append(bs, b())
	}
	return merge(as...), merge(bs...)
}

func run(ctx context.Context, o options) (*results, error) {
	res := &results{opts: o, machine: machine(), started: time.Now().UTC(), mix: map[string]stats{},
		loadBefore: loadAverage()}
	defer func() { res.loadAfter = loadAverage() }()
	dir := o.workdir
	if dir == "" {
		d, err := os.MkdirTemp("", "scim-loadgen")
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(d) }()
		dir = d
	}
	org, err := startOrg()
	if err != nil {
		return nil, err
	}
	defer org.srv.Close()
	var procs []*process
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	start := func(name string) (*server, error) {
		sub := filepath.Join(dir, name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, err
		}
		p, err := startServer(ctx, o.server, sub, org.srv.URL)
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
		return &server{proc: p, base: "http://" + p.addr + "/api/v2/agencies/" + agencyID + "/scim"}, nil
	}
	small, err := start("small")
	if err != nil {
		return nil, err
	}
	large, err := start("large")
	if err != nil {
		return nil, err
	}
	bare, err := startBare(ctx)
	if err != nil {
		return nil, err
	}
	procs = append(procs, bare)
	raw, err := openRawInserter(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer raw.close()
	c := newClient(o.concurrency, org.token)
	// The bare handler gets the very requests the server gets (same path, same token), so the
	// two differ only in what the handler does.
	bareClient := newClient(o.concurrency, org.token)
	bareSrv := &server{base: "http://" + bare.addr + "/api/v2/agencies/" + agencyID + "/scim"}
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	slice := o.duration / time.Duration(o.slices)

	res.loadSmall = small.load(ctx, c, o.concurrency, 0, o.smallUsers)
	logf("small directory, %d users: %s", o.smallUsers, res.loadSmall)
	res.loadLarge = large.load(ctx, c, o.concurrency, 0, o.users)
	logf("large directory, %d users: %s", o.users, res.loadLarge)

	var next atomic.Int64
	next.Store(int64(o.users))
	var rawErr error
	res.post, _ = interleave(o.slices, func() stats {
		return c.closedLoop(ctx, o.concurrency, slice, 0, func(int, int) (*http.Request, int) {
			body := userBody(int(next.Add(1)), true, "Officer")
			return mustRequest(http.MethodPost, large.base+"/Users", body), http.StatusCreated
		})
	}, func() stats {
		n, d, err := raw.run(ctx, o.concurrency, slice)
		if err != nil {
			rawErr = err
		}
		res.rawInserted += n
		return stats{Requests: n, Elapsed: d}
	})
	if rawErr != nil {
		return nil, rawErr
	}
	res.rawInsert = float64(res.rawInserted) / (slice * time.Duration(o.slices)).Seconds()
	logf("POST: %s; raw inserts: %.0f/s", res.post, res.rawInsert)

	res.lookupSmall, res.lookupLarge = interleave(o.slices,
		func() stats { return c.closedLoop(ctx, 1, slice/2, 0, small.lookup(o.smallUsers)) },
		func() stats { return c.closedLoop(ctx, 1, slice/2, 0, large.lookup(o.users)) })
	logf("lookup, one client: %d users %s; %d users %s", o.smallUsers, res.lookupSmall, o.users, res.lookupLarge)

	res.lookupMax, res.bare = interleave(o.slices,
		func() stats { return c.closedLoop(ctx, o.concurrency, slice, 0, large.lookup(o.users)) },
		func() stats { return bareClient.closedLoop(ctx, o.concurrency, slice, 0, bareSrv.lookup(o.users)) })
	logf("lookup, %d clients: %s; bare handler: %s", o.concurrency, res.lookupMax, res.bare)
	// Capacity drifts when the machine is shared: each open-loop slice runs at half the rate a
	// closed-loop burst measured just before it.
	var halves []stats
	var pressure float64
	for range o.slices {
		burst := c.closedLoop(ctx, o.concurrency, slice/2, 0, large.lookup(o.users))
		res.halfPlanned += burst.rate() / 2 / float64(o.slices)
		p := pressureShare(func() {
			halves = append(halves, c.openLoop(ctx, burst.rate()/2, slice, large.lookup(o.users)))
		})
		if p < 0 || pressure < 0 {
			pressure = -1
		} else {
			pressure += p / float64(o.slices)
		}
	}
	res.halfPressure = pressure
	res.lookupHalf = merge(halves...)
	logf("lookup at half the maximum rate: %s", res.lookupHalf)
	res.mixAll = runMix(ctx, c, large.base, o, res.mix)
	logf("provisioning mix: %s", res.mixAll)
	if res.paging, res.pages, err = pageAll(ctx, c, large.base); err != nil {
		return nil, err
	}
	logf("paging %d pages of 100: %s", res.pages, res.paging)
	if res.peakRSS, err = large.proc.peakRSS(); err != nil {
		return nil, err
	}
	for _, p := range procs {
		p.stop()
	}
	procs = nil
	if res.onePass, err = readAllOnce(ctx, filepath.Join(dir, "large")); err != nil {
		return nil, err
	}
	logf("one pass reading all users: %s", res.onePass)
	return res, nil
}

// runMix replays Okta's steady-state traffic: create-checks (lookup by userName), imports
// (pages of 100), and updates (lookup, GET by id, PUT of the whole user), at o.concurrency.
func runMix(ctx context.Context, c *client, base string, o options, per map[string]stats) stats {
	var mu sync.Mutex
	lat := map[string][]time.Duration{}
	errs := map[string]int{}
	record := func(op string, d time.Duration, ok bool) {
		mu.Lock()
		lat[op] = append(lat[op], d)
		if !ok {
			errs[op]++
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	deadline := time.Now().Add(o.duration)
	start := time.Now()
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				n := rand.IntN(o.users)
				f := url.QueryEscape(fmt.Sprintf(`userName eq "%s"`, userName(n)))
				switch p := rand.IntN(100); {
				case p < 60:
					d, ok := c.do(
						mustRequest(http.MethodGet, base+"/Users?filter="+f+"&startIndex=1&count=100", ""),
						http.StatusOK,
					)
					record("lookup", d, ok)
				case p < 70:
					start := 1 + rand.IntN(max(o.users-100, 1))
					d, ok := c.do(
						mustRequest(http.MethodGet, fmt.Sprintf("%s/Users?startIndex=%d&count=100", base, start), ""),
						http.StatusOK,
					)
					record("import page", d, ok)
				default:
					id, d, ok := lookupID(c, base+"/Users?filter="+f)
					record("lookup", d, ok)
					if !ok {
						continue
					}
					d, ok = c.do(mustRequest(http.MethodGet, base+"/Users/"+id, ""), http.StatusOK)
					record("get", d, ok)
					rank := []string{"Officer", "Sergeant"}[rand.IntN(2)]
					d, ok = c.do(
						mustRequest(http.MethodPut, base+"/Users/"+id, userBody(n, rand.IntN(10) != 0, rank)),
						http.StatusOK,
					)
					record("put", d, ok)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	allErrs := 0
	for op, l := range lat {
		all = append(all, l...)
		allErrs += errs[op]
		per[op] = summarise(l, errs[op], elapsed)
	}
	return summarise(all, allErrs, elapsed)
}

func lookupID(c *client, u string) (string, time.Duration, bool) {
	req := mustRequest(http.MethodGet, u, "")
	req.Header.Set("Authorization", "Bearer "+c.token)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return "", time.Since(start), false
	}
	defer func() { _ = resp.Body.Close() }()
	var lr struct {
		Resources []struct{ ID string }
	}
	err = json.NewDecoder(resp.Body).Decode(&lr)
	d := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK || len(lr.Resources) != 1 {
		return "", d, false
	}
	return lr.Resources[0].ID, d, true
}

// pageAll reads every user as an import does: startIndex 1, 101, ... with count=100.
func pageAll(ctx context.Context, c *client, base string) (time.Duration, int, error) {
	start := time.Now()
	pages := 0
	for idx := 1; ctx.Err() == nil; idx += 100 {
		req := mustRequest(http.MethodGet, fmt.Sprintf("%s/Users?startIndex=%d&count=100", base, idx), "")
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.http.Do(req)
		if err != nil {
			return 0, 0, err
		}
		var lr struct {
			TotalResults int
			ItemsPerPage int
		}
		err = json.NewDecoder(resp.Body).Decode(&lr)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, 0, fmt.Errorf("page at %d: status %d", idx, resp.StatusCode)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("page at %d: %w", idx, err)
		}
		pages++
		if idx+100 > lr.TotalResults {
			break
		}
	}
	return time.Since(start), pages, ctx.Err()
}

// readAllOnce is the reference the paging cost is compared with: one store query that reads
// every user (with groups), marshalled to JSON, in this process, on the server's database.
func readAllOnce(ctx context.Context, dir string) (time.Duration, error) {
	cfg := scimconfig.Config{
		Ranks:      []string{"Officer", "Sergeant"},
		Roles:      []string{"User", "Admin"},
		UserGroups: []string{"Patrol-A"},
	}
	cfg.Default()
	st, err := directory.Open(ctx, "sqlite://"+dir+"/scim.db", directory.RulesFromConfig(&cfg))
	if err != nil {
		return 0, err
	}
	defer func() { _ = st.Close() }()
	counts, err := st.Counts(ctx)
	if err != nil {
		return 0, err
	}
	users := int(counts.Users)
	start := time.Now()
	page, err := st.ListUsers(ctx, directory.Query{StartIndex: 1, Count: users, WithMembers: true})
	if err != nil {
		return 0, err
	}
	if _, err := json.Marshal(page.Resources); err != nil {
		return 0, err
	}
	d := time.Since(start)
	if len(page.Resources) != users {
		return 0, fmt.Errorf("one pass read %d users, want %d", len(page.Resources), users)
	}
	return d, nil
}
