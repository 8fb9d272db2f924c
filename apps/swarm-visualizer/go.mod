module github.com/nx-swarm/apps/swarm-visualizer

go 1.22
