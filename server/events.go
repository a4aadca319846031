package server

// The event stream (GET /api/v1/events) is the events area (server/endpoints/events); the Server
// owns its hub so that shutdown can end the streams and /metrics can count them.

// Publish pushes an event (for example "alert") to every connected event stream; data is sent as
// JSON. It never blocks; safe for concurrent use.
func (s *Server) Publish(event string, data any) { s.ext().hub.Publish(event, data) }

// closeEvents ends every open event stream. http.Server.Shutdown does not cancel running handlers, so
// Serve must call this (hs.RegisterOnShutdown(s.closeEvents)) or shutdown waits for every stream.
func (s *Server) closeEvents() { s.ext().hub.Close() }
