// Package bench compares complykit's request path with its peers (raw
// net/http, golang.org/x/oauth2, a plain oapi-codegen client) on Stenn's
// GET /v1/companies, and measures the token path under rollover. It has no
// API; everything is in its tests and benchmarks. See docs/benchmarks.md
// for the figures and the commands that made them.
package bench
