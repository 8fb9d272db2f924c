module github.com/nx-swarm/quotes-service

go 1.22
