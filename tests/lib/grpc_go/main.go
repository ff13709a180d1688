// SPDX-License-Identifier: MIT
//
// grpc_go: both ends of gRPC for tests/e2e/grpc_go.t, on Go's grpc as Debian packages it
// (golang-google-grpc-dev, built offline against /usr/share/gocode with GO111MODULE=off). It is
// tests/lib/grpc_peer.py again in Go, with the same arguments and the same output, so either
// end can meet the other's. No generated code: the service is a grpc.ServiceDesc written out
// here, and messages are raw bytes through a codec registered under the name "proto" (the one
// gRPC asks for by default), so no protoc is needed.
//
//	grpc_go server PORT (tls CERT KEY | insecure) READY LOG
//	    serves test.Echo on 127.0.0.1:PORT, makes READY once listening, and appends a line
//	    "/test.Echo/METHOD" to LOG for each call it takes:
//	      Say     unary: "said:" + the request
//	      Chat    bidi: answers each message m with "chat:" + m as it comes
//	      Slow    unary: sleeps 3 s, then "slow:" + the request
//	      Secret  unary: "secret:" + the request (a method the suite's rules leave out)
//	grpc_go client TARGET (tls CAFILE|default | insecure) METHOD [MESSAGE] [--deadline S]
//	    calls /test.Echo/METHOD on TARGET (HOST:PORT) with MESSAGE (default "hi") and prints
//	    one line: "OK ANSWER" or "ERR CODE DETAILS" (CODE a codes.Code name as Go spells it,
//	    PermissionDenied, DETAILS with newlines as \n). Chat sends MESSAGE1, MESSAGE2,
//	    MESSAGE3, each only once the answer to the one before has come (a proxy that held the
//	    request stream back would stall it), and prints the answers space-separated. "default"
//	    trusts the system's roots, which Go reads from SSL_CERT_FILE when it is set, as boundary
//	    sets it in a jail. The deadline defaults to 10 s. HTTP proxy variables are ignored
//	    (grpc.WithNoProxy): only the jail redirects.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
)

const service = "test.Echo"

// rawCodec passes []byte through as the message's bytes. Registered as "proto", it replaces the
// protobuf codec for every call of this process, client and server alike.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*b = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

func init() { encoding.RegisterCodec(rawCodec{}) }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: grpc_go server PORT (tls CERT KEY | insecure) READY LOG\n"+
		"       grpc_go client TARGET (tls CAFILE|default | insecure) METHOD [MESSAGE] [--deadline S]")
	os.Exit(2)
}

// echo is the service; its handlers are the ServiceDesc's, so it needs no interface of its own.
type echo struct {
	mu  sync.Mutex
	log string
}

func (e *echo) logged(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := os.OpenFile(e.log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc_go:", err)
		return
	}
	fmt.Fprintf(f, "/%s/%s\n", service, name)
	f.Close()
}

// unary makes a unary handler that logs NAME and answers PREFIX + the request, after WAIT.
func unary(name, prefix string, wait time.Duration) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv interface{}, ctx context.Context, dec func(interface{}) error,
			_ grpc.UnaryServerInterceptor) (interface{}, error) {
			var req []byte
			if err := dec(&req); err != nil {
				return nil, err
			}
			srv.(*echo).logged(name)
			time.Sleep(wait)
			out := append([]byte(prefix), req...)
			return &out, nil
		},
	}
}

func chat(srv interface{}, stream grpc.ServerStream) error {
	srv.(*echo).logged("Chat")
	for {
		var m []byte
		if err := stream.RecvMsg(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		out := append([]byte("chat:"), m...)
		if err := stream.SendMsg(&out); err != nil {
			return err
		}
	}
}

var desc = grpc.ServiceDesc{
	ServiceName: service,
	HandlerType: (*interface{})(nil),
	Methods: []grpc.MethodDesc{
		unary("Say", "said:", 0),
		unary("Slow", "slow:", 3*time.Second),
		unary("Secret", "secret:", 0),
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Chat", Handler: chat, ServerStreams: true, ClientStreams: true},
	},
}

func server(args []string) {
	var opts []grpc.ServerOption
	var ready, log string
	if len(args) < 2 {
		usage()
	}
	port, kind := args[0], args[1]
	switch {
	case kind == "tls" && len(args) == 6:
		creds, err := credentials.NewServerTLSFromFile(args[2], args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, "grpc_go:", err)
			os.Exit(1)
		}
		opts = append(opts, grpc.Creds(creds))
		ready, log = args[4], args[5]
	case kind == "insecure" && len(args) == 4:
		ready, log = args[2], args[3]
	default:
		usage()
	}
	addr := "127.0.0.1:" + port
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "grpc_go: cannot listen on %s: %v\n", addr, err)
		os.Exit(1)
	}
	s := grpc.NewServer(opts...)
	s.RegisterService(&desc, &echo{log: log})
	if f, err := os.Create(ready); err == nil {
		f.Close()
	}
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "grpc_go:", err)
		os.Exit(1)
	}
}

// call makes one call of METHOD with MSG on CC and returns what to print.
func call(ctx context.Context, cc *grpc.ClientConn, method string, msg []byte) string {
	path := "/" + service + "/" + method
	var got []string
	var err error
	if method == "Chat" {
		var st grpc.ClientStream
		st, err = cc.NewStream(ctx, &desc.Streams[0], path)
		for i := 1; err == nil && i <= 3; i++ {
			m := append(append([]byte(nil), msg...), strconv.Itoa(i)...)
			if err = st.SendMsg(&m); err == io.EOF {
				// the stream ended: RecvMsg says how
				var a []byte
				if err = st.RecvMsg(&a); err == nil || err == io.EOF {
					err = fmt.Errorf("the stream ended without a status")
				}
				break
			} else if err != nil {
				break
			}
			// the next message only after this one's answer
			var a []byte
			if err = st.RecvMsg(&a); err == nil {
				got = append(got, string(a))
			}
		}
		if err == nil {
			err = st.CloseSend()
		}
		if err == nil {
			var a []byte
			if err = st.RecvMsg(&a); err == io.EOF {
				err = nil
			} else if err == nil {
				err = fmt.Errorf("an answer past the third: %q", a)
			}
		}
	} else {
		var a []byte
		if err = cc.Invoke(ctx, path, &msg, &a); err == nil {
			got = append(got, string(a))
		}
	}
	if err != nil {
		s := status.Convert(err)
		return fmt.Sprintf("ERR %s %s", s.Code(), strings.ReplaceAll(s.Message(), "\n", `\n`))
	}
	return "OK " + strings.Join(got, " ")
}

func client(args []string) {
	deadline := 10 * time.Second
	for i := 0; i < len(args); i++ {
		if args[i] == "--deadline" && i+1 < len(args) {
			s, err := strconv.ParseFloat(args[i+1], 64)
			if err != nil {
				usage()
			}
			deadline = time.Duration(s * float64(time.Second))
			args = append(args[:i:i], args[i+2:]...)
			break
		}
	}
	if len(args) < 3 {
		usage()
	}
	target, kind, rest := args[0], args[1], args[2:]
	opts := []grpc.DialOption{grpc.WithNoProxy()}
	switch kind {
	case "tls":
		cfg := &tls.Config{}
		if rest[0] != "default" {
			pem, err := ioutil.ReadFile(rest[0])
			if err != nil {
				fmt.Fprintln(os.Stderr, "grpc_go:", err)
				os.Exit(1)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				fmt.Fprintf(os.Stderr, "grpc_go: no certificate in %s\n", rest[0])
				os.Exit(1)
			}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		rest = rest[1:]
	case "insecure":
		opts = append(opts, grpc.WithInsecure())
	default:
		usage()
	}
	if len(rest) < 1 {
		usage()
	}
	msg := []byte("hi")
	if len(rest) > 1 {
		msg = []byte(rest[1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	// Not blocking: the dial itself cannot fail, the call says what went wrong.
	cc, err := grpc.Dial(target, opts...)
	if err != nil {
		fmt.Printf("ERR %s %s\n", status.Code(err), err)
		return
	}
	defer cc.Close()
	fmt.Println(call(ctx, cc, rest[0], msg))
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "server":
		server(os.Args[2:])
	case "client":
		client(os.Args[2:])
	default:
		usage()
	}
}
