module github.com/nx-swarm/libs/go/common

go 1.22
