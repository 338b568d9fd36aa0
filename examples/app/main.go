// The sample app: reports the platform it was compiled for, the machine it runs on, and the
// machine the image's final-stage RUN step ran on (under emulation for foreign platforms).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

func main() {
	builtOn, err := os.ReadFile("/built-on.txt")
	if err != nil {
		builtOn = []byte("unknown")
	}
	fmt.Printf("hello from %s/%s (compiled with %s), image RUN step ran on %s\n",
		runtime.GOOS, runtime.GOARCH, runtime.Version(), strings.TrimSpace(string(builtOn)))
}
