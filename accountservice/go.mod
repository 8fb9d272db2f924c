module github.com/nx-swarm/accountservice

go 1.25.0

require go.etcd.io/bbolt v1.5.0

require (
	github.com/nx-swarm/libs/go/common v0.0.0-00010101000000-000000000000
	golang.org/x/sys v0.45.0 // indirect
)

replace github.com/nx-swarm/libs/go/common => ../libs/go/common
