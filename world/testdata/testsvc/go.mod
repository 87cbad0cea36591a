module example.com/testsvc

go 1.15
