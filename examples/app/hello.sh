#!/bin/sh
echo "hello from $(uname -m), built on $(cat /built-on.txt)"
