// Package views embeds the portal's HTML templates.
package views

import "embed"

// FS holds every template; names are paths without the .html extension.
//
//go:embed *.html partials/*.html
var FS embed.FS
