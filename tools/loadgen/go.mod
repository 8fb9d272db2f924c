module github.com/nx-swarm/tools/loadgen

go 1.22
