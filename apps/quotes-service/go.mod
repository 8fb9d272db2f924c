module github.com/nx-swarm/quotes-service

go 1.22

require github.com/nx-swarm/libs/go/common v0.0.0-00010101000000-000000000000

replace github.com/nx-swarm/libs/go/common => ../../libs/go/common
