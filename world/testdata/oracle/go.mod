module example.com/oracle

go 1.21

require golang.org/x/mod v0.19.0
