package github

import (
	"strings"
	"testing"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

func TestWindowWait(t *testing.T) {
	london := v1.ChangeWindow{Timezone: "Europe/London", Deny: []v1.Period{
		{Days: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, Start: "07:00", End: "17:30"}}}
	nightly := v1.ChangeWindow{Timezone: "America/New_York", Allow: []v1.Period{{Start: "22:00", End: "02:00"}}}
	frozen := v1.ChangeWindow{Timezone: "UTC", Deny: []v1.Period{{Start: "00:00", End: "00:00"}}}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		name    string
		windows map[string]v1.ChangeWindow
		envs    []string
		now     string
		// until is when the wait ends ("" for no wait); missing a substring
		// of the requirement when no window opens.
		until, missing string
	}{
		{"weekend is open", map[string]v1.ChangeWindow{"prod": london}, []string{"prod"}, "2026-01-03T12:00:00Z", "", ""},
		{"trading hours wait", map[string]v1.ChangeWindow{"prod": london}, []string{"prod"}, "2026-01-05T09:00:00Z", "2026-01-05T17:30:00Z", ""},
		{"deny end is open", map[string]v1.ChangeWindow{"prod": london}, []string{"prod"}, "2026-01-05T17:30:00Z", "", ""},
		{"summer time", map[string]v1.ChangeWindow{"prod": london}, []string{"prod"}, "2026-07-06T06:30:00Z", "2026-07-06T16:30:00Z", ""},
		{"no window for env", map[string]v1.ChangeWindow{"prod": london}, []string{"dev"}, "2026-01-05T09:00:00Z", "", ""},
		{"allow past midnight, inside", map[string]v1.ChangeWindow{"prod": nightly}, []string{"prod"}, "2026-01-06T05:00:00Z", "", ""},
		{"allow past midnight, before", map[string]v1.ChangeWindow{"prod": nightly}, []string{"prod"}, "2026-01-06T12:00:00Z", "2026-01-07T03:00:00Z", ""},
		{"two environments open together", map[string]v1.ChangeWindow{"prod": london, "us": nightly}, []string{"us", "prod"},
			"2026-01-05T09:00:00Z", "2026-01-06T03:00:00Z", ""}, // 22:00 in New York, 03:00 in London
		{"one open, the other closed", map[string]v1.ChangeWindow{"prod": london, "us": nightly}, []string{"prod", "us"},
			"2026-01-03T12:00:00Z", "2026-01-04T03:00:00Z", ""},
		{"duplicate environments", map[string]v1.ChangeWindow{"prod": london}, []string{"prod", "prod"},
			"2026-01-05T09:00:00Z", "2026-01-05T17:30:00Z", ""},
		{"never opens", map[string]v1.ChangeWindow{"prod": frozen}, []string{"prod"}, "2026-01-05T09:00:00Z", "", "do not open together within a week"},
		{"unknown time zone", map[string]v1.ChangeWindow{"prod": {Timezone: "Mars/Olympus", Deny: london.Deny}}, []string{"prod"},
			"2026-01-05T09:00:00Z", "", "unknown time zone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wait, missing := windowWait(tc.windows, tc.envs, utc(tc.now))
			switch {
			case tc.missing != "":
				if len(missing) != 1 || !strings.Contains(missing[0].Message, tc.missing) || wait != nil {
					t.Fatalf("wait %+v, missing %+v; want %q", wait, missing, tc.missing)
				}
			case tc.until == "":
				if wait != nil || len(missing) > 0 {
					t.Fatalf("wait %+v, missing %+v; want open", wait, missing)
				}
			default:
				if wait == nil || !wait.Until.Equal(utc(tc.until)) || len(missing) > 0 {
					t.Fatalf("wait %+v, missing %+v; want until %s", wait, missing, tc.until)
				}
			}
		})
	}
}

func TestMatchesAny(t *testing.T) {
	cases := []struct {
		pattern, file string
		want          bool
	}{
		{"security.json", "security.json", true},
		{"security.json", "adapters/security.json", false},
		{"adapters/prod/**", "adapters/prod/lse.json", true},
		{"adapters/prod/**", "adapters/prod/eu/lse.jsonnet", true},
		{"adapters/prod/**", "adapters/production/lse.json", false},
		{"adapters/*/lse.json", "adapters/prod/lse.json", true},
		{"adapters/*/lse.json", "adapters/prod/eu/lse.json", false},
		{"lib/*.{libsonnet,jsonnet}", "lib/fix.libsonnet", true},
		{"[", "[", false}, // malformed: matches nothing
	}
	for _, tc := range cases {
		if got := matchesAny(tc.pattern, []string{tc.file}); got != tc.want {
			t.Errorf("matchesAny(%q, %q) = %v, want %v", tc.pattern, tc.file, got, tc.want)
		}
	}
}

func TestLatestStates(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 1, 1, 0, m, 0, 0, time.UTC) }
	got := latestStates([]Review{
		{ID: 4, User: "bob", State: ReviewCommented, SubmittedAt: at(4)},
		{ID: 1, User: "bob", State: ReviewChangesRequested, SubmittedAt: at(1)},
		{ID: 2, User: "Bob", State: ReviewApproved, SubmittedAt: at(2)},
		{ID: 3, User: "carol", State: ReviewApproved, SubmittedAt: at(3)},
		{ID: 5, User: "carol", State: ReviewDismissed, SubmittedAt: at(5)},
		{ID: 6, User: "dave", State: ReviewPending},
	})
	if len(got) != 2 || got[0].ID != 2 || got[1].ID != 5 {
		t.Fatalf("latest = %+v, want bob's approval and carol's dismissal", got)
	}
}
