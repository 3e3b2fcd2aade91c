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
	"sync"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// results are everything one run measured.
type results struct {
	opts        options
	machine     string
	started     time.Time
	loadSmall   stats // POSTs up to smallUsers
	loadLarge   stats // POSTs from smallUsers to users: the POST rate
	lookupSmall stats // sequential lookups at smallUsers
	lookupLarge stats // sequential lookups at users
	lookupMax   stats // closed loop at users: the maximum lookup rate
	lookupHalf  stats // open loop at half the maximum rate
	mix         map[string]stats
	mixAll      stats
	paging      time.Duration
	pages       int
	onePass     time.Duration
	bare        stats
	rawInsert   float64
	rawInserted int
	peakRSS     int64
	loadBefore  string
	loadAfter   string
}

func userName(n int) string { return fmt.Sprintf("officer%07d@agency.example", n) }

func userBody(n int, active bool, rank string) string {
	return fmt.Sprintf(
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:2.0:axon"],`+
			`"userName":%q,"name":{"givenName":"Given%d","familyName":"Family%d"},`+
			`"emails":[{"primary":true,"value":%q,"type":"work"}],`+
			`"displayName":"Given%d Family%d","locale":"en-US","externalId":"00u%07dOKTA",`+
			`"password":"Thr0waway!%d","active":%t,`+
			`"groups":[],"urn:ietf:params:scim:schemas:extension:2.0:axon":{"badgeId":"B%07d","rankName":%q}}`,
		userName(n),
		n,
		n,
		userName(n),
		n,
		n,
		n,
		n,
		active,
		n,
		rank,
	)
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
	srv, err := startServer(ctx, o.server, dir, org.srv.URL)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
	}()
	base := "http://" + srv.addr + "/api/v2/agencies/" + agencyID + "/scim"
	c := newClient(o.concurrency, org.token)
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

	load := func(from, to int) stats {
		next := make(chan int, o.concurrency)
		go func() {
			for n := from; n < to; n++ {
				next <- n
			}
			close(next)
		}()
		return c.closedLoop(ctx, o.concurrency, time.Hour, to-from, func(int, int) (*http.Request, int) {
			return mustRequest(http.MethodPost, base+"/Users", userBody(<-next, true, "Officer")), http.StatusCreated
		})
	}
	lookup := func(users int) request {
		return func(int, int) (*http.Request, int) {
			f := url.QueryEscape(fmt.Sprintf(`userName eq "%s"`, userName(rand.IntN(users))))
			return mustRequest(http.MethodGet, base+"/Users?filter="+f+"&startIndex=1&count=100", ""), http.StatusOK
		}
	}

	res.loadSmall = load(0, o.smallUsers)
	logf("load %d users: %s", o.smallUsers, res.loadSmall)
	res.lookupSmall = c.closedLoop(ctx, 1, o.duration/2, 0, lookup(o.smallUsers))
	logf("lookup at %d users, one client: %s", o.smallUsers, res.lookupSmall)
	res.loadLarge = load(o.smallUsers, o.users)
	logf("load to %d users (POST rate): %s", o.users, res.loadLarge)
	res.lookupLarge = c.closedLoop(ctx, 1, o.duration/2, 0, lookup(o.users))
	logf("lookup at %d users, one client: %s", o.users, res.lookupLarge)
	res.lookupMax = c.closedLoop(ctx, o.concurrency, o.duration, 0, lookup(o.users))
	logf("lookup at %d users, %d clients: %s", o.users, o.concurrency, res.lookupMax)
	res.lookupHalf = c.openLoop(ctx, res.lookupMax.rate()/2, o.duration, lookup(o.users))
	logf("lookup at half the maximum rate: %s", res.lookupHalf)
	res.mixAll = runMix(ctx, c, base, o, res.mix)
	logf("provisioning mix: %s", res.mixAll)
	if res.paging, res.pages, err = pageAll(ctx, c, base); err != nil {
		return nil, err
	}
	logf("paging %d pages of 100: %s", res.pages, res.paging)
	if res.peakRSS, err = srv.peakRSS(); err != nil {
		return nil, err
	}
	srv.stop()
	stopped = true

	if res.onePass, err = readAllOnce(ctx, dir, o.users); err != nil {
		return nil, err
	}
	logf("one pass reading all users: %s", res.onePass)
	bare, err := startBare(ctx)
	if err != nil {
		return nil, err
	}
	res.bare = newClient(
		o.concurrency,
		"",
	).closedLoop(ctx, o.concurrency, o.duration, 0, func(int, int) (*http.Request, int) {
		return mustRequest(http.MethodGet, "http://"+bare.addr+"/Users?filter=x", ""), http.StatusOK
	})
	bare.stop()
	logf("bare handler: %s", res.bare)
	if res.rawInsert, res.rawInserted, err = rawInsertRate(ctx, dir, o.concurrency, o.duration); err != nil {
		return nil, err
	}
	logf("raw SQLite inserts: %.0f/s", res.rawInsert)
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
func readAllOnce(ctx context.Context, dir string, users int) (time.Duration, error) {
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
