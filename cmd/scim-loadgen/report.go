package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

type target struct {
	name     string
	measured string
	goal     string
	met      bool
}

func (r *results) targets() []target {
	lookupRatio := r.lookupMax.rate() / r.bare.rate()
	p50Ratio := float64(r.lookupLarge.P50) / float64(r.lookupSmall.P50)
	postRatio := r.post.rate() / r.rawInsert
	pagingRatio := float64(r.paging) / float64(r.onePass)
	rssMiB := float64(r.peakRSS) / (1 << 20)
	return []target{
		{
			"filter lookup req/s vs bare handler",
			fmt.Sprintf("%.0f / %.0f = %.2f", r.lookupMax.rate(), r.bare.rate(), lookupRatio),
			">= 0.50",
			lookupRatio >= 0.5,
		},
		{
			"lookup p99 at half the maximum rate",
			fmt.Sprintf("%s (sent %.0f of the planned %.0f req/s)", ms(r.lookupHalf.P99), r.lookupHalf.rate(),
				r.halfPlanned),
			"< 5 ms",
			r.lookupHalf.P99 < 5*time.Millisecond,
		},
		{
			fmt.Sprintf("lookup p50 at %d vs %d users", r.opts.users, r.opts.smallUsers),
			fmt.Sprintf("%s / %s = %.2f", ms(r.lookupLarge.P50), ms(r.lookupSmall.P50), p50Ratio),
			"<= 1.5",
			p50Ratio <= 1.5,
		},
		{
			"POST /Users req/s vs raw SQLite inserts",
			fmt.Sprintf("%.0f / %.0f = %.2f", r.post.rate(), r.rawInsert, postRatio),
			">= 0.50",
			postRatio >= 0.5,
		},
		{
			fmt.Sprintf("paging all %d+ users by 100 vs one full read", r.opts.users),
			fmt.Sprintf(
				"%s / %s = %.2f",
				r.paging.Round(time.Millisecond),
				r.onePass.Round(time.Millisecond),
				pagingRatio,
			),
			"<= 3",
			pagingRatio <= 3,
		},
		{"peak RSS of scim-server", fmt.Sprintf("%.1f MiB", rssMiB), "< 150 MiB", rssMiB < 150},
	}
}

func (r *results) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# SCIM server benchmarks")
	w("")
	w("Written by `make bench` (`bin/scim-loadgen --out docs/benchmarks.md`); rerun it to refresh. Every number below")
	w("comes from one run of the load generator, which started the servers it measured itself, on 127.0.0.1.")
	w("")
	w("- Run: %s", r.started.Format(time.RFC3339))
	w("- Machine: %s", r.machine)
	w(
		"- Parameters: %d users (baseline %d), %d concurrent clients, %s per timed phase, SQLite store",
		r.opts.users,
		r.opts.smallUsers,
		r.opts.concurrency,
		r.opts.duration,
	)
	w("- Each ratio's two sides are measured in %d alternating slices (marked \"slices\" below), so", r.opts.slices)
	w("  other load on the machine falls on both alike.")
	w("- The load generator, the server and its database share the machine's CPUs. Load average")
	w("  (1/5/15 min) before the run: %s; after: %s.", r.loadBefore, r.loadAfter)
	if r.halfPressure >= 0 {
		w("- CPU pressure during the open-loop phase (Linux PSI \"some\": share of the time in which a")
		w("  ready task, ours or another's, waited for a CPU): %.0f%%.", r.halfPressure*100)
	}
	w("")
	w("## Targets")
	w("")
	w("| target | measured | goal | met |")
	w("| --- | --- | --- | --- |")
	for _, t := range r.targets() {
		met := "yes"
		if !t.met {
			met = "**no**"
		}
		w("| %s | %s | %s | %s |", t.name, t.measured, t.goal, met)
	}
	w("")
	w("## Phases")
	w("")
	w("| phase | requests | req/s | p50 | p99 | errors |")
	w("| --- | --- | --- | --- | --- | --- |")
	row := func(name string, s stats) {
		w("| %s | %d | %.0f | %s | %s | %d |", name, s.Requests, s.rate(), ms(s.P50), ms(s.P99), s.Errors)
	}
	row(fmt.Sprintf("fill the small directory: POST /Users, 0 to %d users", r.opts.smallUsers), r.loadSmall)
	row(fmt.Sprintf("fill the large directory: POST /Users, 0 to %d users", r.opts.users), r.loadLarge)
	row(fmt.Sprintf("POST /Users at %d+ users (slices)", r.opts.users), r.post)
	row(fmt.Sprintf("lookup at %d users, 1 client (slices)", r.opts.smallUsers), r.lookupSmall)
	row(fmt.Sprintf("lookup at %d users, 1 client (slices)", r.opts.users), r.lookupLarge)
	row(fmt.Sprintf("lookup at %d users, %d clients: maximum rate (slices)", r.opts.users, r.opts.concurrency),
		r.lookupMax)
	row("lookup at half the maximum rate (open loop, slices)", r.lookupHalf)
	row("provisioning mix, all requests", r.mixAll)
	ops := make([]string, 0, len(r.mix))
	for op := range r.mix {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	for _, op := range ops {
		row("mix: "+op, r.mix[op])
	}
	row("bare net/http handler, fixed one-user ListResponse (slices)", r.bare)
	w("| raw SQLite single-row inserts (slices) | %d | %.0f | | | 0 |", r.rawInserted, r.rawInsert)
	w(
		"| paging all users, count=100 (%d pages) | %d | %.0f | | | 0 |",
		r.pages,
		r.pages,
		float64(r.pages)/r.paging.Seconds(),
	)
	w("| one full read (store query + JSON) | 1 | | %s | | 0 |", r.onePass.Round(time.Millisecond))
	w("")
	w("Peak RSS is the server process's VmHWM after all the phases that ran against it.")
	return b.String()
}
