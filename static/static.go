// Package static embeds the portal's CSS, fonts, images and the little
// JavaScript there is.
package static

import "embed"

// FS is served under /static.
//
//go:embed css js
var FS embed.FS
