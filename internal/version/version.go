// Package version holds the SDK's version, in one place: the User-Agent of
// every request and the CLI's --version read it from here.
package version

// Number is the SDK's release version (semantic versioning, without the
// leading "v"). CHANGELOG.md lists what each version brought.
const Number = "0.1.0"
