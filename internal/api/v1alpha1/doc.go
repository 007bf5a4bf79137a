// Package v1alpha1 holds the Go types of the cairn.dev/v1alpha1 document
// kinds: Repository, Adapter, SecurityConfig and ChangePolicy.
//
// The JSON Schemas in the schema package are the authority on what a valid
// document is; these types mirror them field for field so that a document
// that passes its schema decodes strictly (unknown fields are errors) into
// its type. The types carry no behaviour beyond small accessors: loading
// lives in internal/manifest, rules in internal/validate, rendering in render.
package v1alpha1
