package memstorage

// Document management beyond folders and files lives in a file per
// aggregate: versions.go, checkouts.go, recyclebin.go, attachments.go
// and uploads.go.
