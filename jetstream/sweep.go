package jetstream

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// sweep removes from the jobs' stream the jobs its consumer has already
// settled.
//
// A work-queue stream removes a job when its consumer records the
// acknowledgement or Term. Around a restart, nats-server (v2.15.3) can
// record an acknowledgement in the consumer and keep the message in the
// stream: on start it looks for such messages in interest-retention
// streams only. The consumer never delivers that job again, so without a
// sweep it stays stored for good, and "the stream is empty" stops meaning
// "every job is done".
//
// Every message at or below the consumer's ack floor was acknowledged or
// terminated, and the jobs' stream has one subject with one consumer on it
// (NewQueue keeps it so), so such a message is a leftover. The floor is
// read before the stream's first sequence: it only moves up, so a message
// still owed a delivery is never below it.
func sweep(ctx context.Context, js jetstream.JetStream, stream string, cons jetstream.Consumer) error {
	ci, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	floor := ci.AckFloor.Stream
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return err
	}
	st := s.CachedInfo().State
	for st.Msgs > 0 && st.FirstSeq <= floor {
		seq := st.FirstSeq
		derr := s.DeleteMsg(ctx, seq)
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		st = info.State
		if st.Msgs > 0 && st.FirstSeq <= seq {
			// Not removed, by this delete or by the server's own.
			if derr == nil {
				return fmt.Errorf("settled job %d of %s is still stored after its removal", seq, stream)
			}
			return fmt.Errorf("remove settled job %d of %s: %w", seq, stream, derr)
		}
	}
	return nil
}
