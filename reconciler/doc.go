// Package reconciler runs cairn's reconcile loop as a list of named phases
// (fetch, load, validate, render, gate, apply, record) with one function
// that writes the verdict.
//
// This package is a placeholder in 0.1: the reconciler arrives in a later
// release (see CHANGELOG.md). It holds no code yet.
package reconciler
