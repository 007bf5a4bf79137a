// Package render turns a validated repository (Repository, Adapters,
// SecurityConfig) into one Helm release per adapter: its name, namespace,
// chart, values, digest and rendered objects. It is pure: no cluster, no
// Git, no clock.
//
// This package is a placeholder in 0.1: rendering arrives in the next
// release (see CHANGELOG.md). It holds no code yet.
package render
