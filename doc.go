// Package complykit is the root of complykit-go, a Go SDK for four compliance
// and trade-finance APIs: Stems Comply One, Stenn, CloudCompli and First AML.
//
// The clients live in stemsapi, stennapi, cloudcompliapi and firstamlapi;
// the options they share in option; the token machinery in auth. The root
// package holds only the SDK's version and the code generators' pins
// (tools.go): no library package imports it, so a program that uses one
// client does not inherit the generators.
package complykit

import "github.com/complykit/complykit-go/internal/version"

// Version is the SDK's version. It is sent in the User-Agent of every request.
const Version = version.Number
