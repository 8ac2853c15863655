// Package complykit is the root of complykit-go, a Go SDK for four compliance
// and trade-finance APIs: Stems Comply One, Stenn, CloudCompli and First AML.
//
// The root package holds only the SDK's version; the clients live in
// stemsapi, stennapi, cloudcompliapi and firstamlapi, and the token
// machinery they share lives in auth.
package complykit

// Version is the SDK's version. It is sent in the User-Agent of every request.
const Version = "0.1.0"
