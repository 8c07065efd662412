module pause

go 1.19
