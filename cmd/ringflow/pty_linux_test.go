package main

import "syscall"

const syscallEIO = syscall.EIO
