// Package data holds the portal's shipped content: the policy versions
// (policy text, guidance modules and knowledge-check questions, as Markdown
// files with front matter, read by package app/content) and the notices of
// consent to electronic records.
//
// The runtime SQLite database also lives in this folder by default, but it is
// git-ignored and deliberately not embedded: only the two content folders are.
package data

import "embed"

// FS holds policies/<code>/ (policy.md, changes.md, modules/, questions/)
// and consent/<version>.md.
//
//go:embed policies consent
var FS embed.FS
