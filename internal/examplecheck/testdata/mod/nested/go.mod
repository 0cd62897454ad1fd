module example.com/mod/nested
