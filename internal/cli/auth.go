package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-gitops/cairn/internal/auth/apikey"
	"github.com/cairn-gitops/cairn/internal/history"
)

func newAuthCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{Use: "auth", Short: "Manage API credentials"}
	cmd.AddCommand(newCreateKeyCmd(s))
	return cmd
}

func newCreateKeyCmd(s Streams) *cobra.Command {
	var name, scopes, expires, output string
	cmd := &cobra.Command{
		Use:   "create-key --name NAME --scopes S1,S2 [--expires 90d|2027-06-30T00:00:00Z]",
		Short: "Make an API key: print it once, and the entry (its hash only) to commit to security.json",
		Long: `create-key prints a new API key, which cairn never stores, and the JSON entry
for spec.authentication.apiKeys.keys in security.json, which holds only its
SHA-256 hash. Commit the entry through a pull request (granting access is a
reviewed change) and bind the key's name as a serviceAccount in rbac.bindings.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			exp, err := parseExpiry(expires, time.Now())
			if err != nil {
				return err
			}
			key, entry, err := apikey.NewKey(name, splitList(scopes), exp)
			if err != nil {
				return err
			}
			return printKey(s, output, key, entry)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "the key's name (the serviceAccount that RBAC bindings name)")
	fl.StringVar(&scopes, "scopes", "", "comma-separated scopes, such as status:read,adapters:read")
	fl.StringVar(&expires, "expires", "90d", "when the key stops working: a duration from now (90d, 1y) or an RFC 3339 time")
	fl.StringVar(&output, "output", "text", "text or json")
	return cmd
}

// parseExpiry reads --expires: a duration from now or a time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if !t.After(now) {
			return time.Time{}, fmt.Errorf("--expires %s is in the past", s)
		}
		return t, nil
	}
	d, err := history.ParseRetention(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("--expires %q: want a duration such as 90d or an RFC 3339 time", s)
	}
	return now.Add(d).UTC().Truncate(time.Second), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func printKey(s Streams, output, key string, entry any) error {
	switch output {
	case "json":
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"key": key, "entry": entry})
	case "text":
		b, err := json.MarshalIndent(entry, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "API key (shown once; keep it in your secret store, cairn keeps only its hash):\n\n  %s\n\n"+
			"Add this entry to spec.authentication.apiKeys.keys in security.json, through a pull request:\n\n%s\n", key, b)
		return nil
	}
	return fmt.Errorf("--output %q: want text or json", output)
}
