// Package embedded runs a NATS server with JetStream inside the process.
//
// It is the default broker for the jetstream package's Queue and Workers:
// one process, or a test, gets a durable job queue with file storage in a
// directory and no service to install. A program that connects to a real
// server or cluster uses nats.Connect with its URL instead, and does not
// import this package, so it does not link the server.
//
//	srv, err := embedded.Start("/var/lib/myapp/nats")
//	if err != nil {
//		return err
//	}
//	defer srv.Stop()
//	js, err := jetstream.New(srv.Conn())
//
// Rules:
//
//   - Start returns once the server takes connections, with a connection
//     to it; Stop closes that connection, shuts the server down and waits
//     until its goroutines have exited.
//   - The server listens on 127.0.0.1 only, on a free port unless [Port]
//     says otherwise; other processes on the machine reach it at [Server.URL].
//   - What JetStream stored is kept in the directory: a server started again
//     on it finds its streams, consumers and messages.
//   - Stop may be called more than once; a Server must not be copied.
package embedded
