// Package web holds the page's files, embedded into the binary: index.html, style.css and the
// TypeScript bundle dist/app.js, which the `bundle` target (esbuild) writes before go build.
// dist/ is not committed (only its .gitkeep, so that the package compiles on a fresh checkout;
// the server then says how to build the bundle).
package web

import "embed"

// Files: index.html, style.css, dist/app.js.
//
//go:embed index.html style.css all:dist
var Files embed.FS
