// SPDX-License-Identifier: MIT
//
// resolve.go: Go's own resolver (pure Go, built with CGO_ENABLED=0, so /etc/resolv.conf is
// read and DNS spoken by Go itself), run inside the jail by tests/e2e/resolvers.t. Only the
// standard library: it builds with no network. One line per result:
//
//	resolve host NAME            net.LookupHost: "addr ADDR" per address
//	resolve ip NAME ip4|ip6      net.Resolver.LookupIP: "addr ADDR" per address
//	resolve get NAME PORT PATH   net.LookupHost, then http.Get("http://NAME:PORT/PATH") with
//	                             Go's own dialer (which resolves NAME again): "addr ADDR" per
//	                             address, "peer ADDR" (the address connected to), then
//	                             "status N" and "body BODY"
//
// Errors print "error ERR" and exit 1.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"time"
)

func fail(err error) {
	fmt.Printf("error %v\n", err)
	os.Exit(1)
}

func main() {
	a := os.Args[1:]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := &net.Resolver{PreferGo: true}
	switch {
	case len(a) == 2 && a[0] == "host":
		addrs, err := r.LookupHost(ctx, a[1])
		if err != nil {
			fail(err)
		}
		for _, s := range addrs {
			fmt.Printf("addr %s\n", s)
		}
	case len(a) == 3 && a[0] == "ip":
		ips, err := r.LookupIP(ctx, a[2], a[1])
		if err != nil {
			fail(err)
		}
		for _, ip := range ips {
			fmt.Printf("addr %s\n", ip)
		}
	case len(a) == 4 && a[0] == "get":
		addrs, err := r.LookupHost(ctx, a[1])
		if err != nil {
			fail(err)
		}
		for _, s := range addrs {
			fmt.Printf("addr %s\n", s)
		}
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			host, _, _ := net.SplitHostPort(i.Conn.RemoteAddr().String())
			fmt.Printf("peer %s\n", host)
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "GET",
			"http://"+net.JoinHostPort(a[1], a[2])+a[3], nil)
		if err != nil {
			fail(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fail(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		fmt.Printf("status %d\n", resp.StatusCode)
		fmt.Printf("body %s\n", strings.ReplaceAll(string(body), "\n", " "))
	default:
		fmt.Fprintln(os.Stderr, "usage: resolve host NAME | ip NAME ip4|ip6 | get NAME PORT PATH")
		os.Exit(2)
	}
}
