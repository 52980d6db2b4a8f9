// (being written: issue 10)
