package siameseim.collective;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;

/**
 * A {@link Link.Duplex} over selectable channels (a socket to both peers' sides, or two pipes):
 * puts them in non-blocking mode for its lifetime and waits on one selector for whichever of the
 * two directions is asked for.
 */
final class ChannelDuplex implements Link.Duplex {
    private final SelectableChannel out;
    private final SelectableChannel in;
    private final Peer from;
    private final Selector selector;
    private final SelectionKey outKey;
    private final SelectionKey inKey;

    /** @param out carries frames to the successor; {@code in} frames from {@code from} (may be the same channel) */
    ChannelDuplex(SelectableChannel out, SelectableChannel in, Peer from) throws IOException {
        this.out = out;
        this.in = in;
        this.from = from;
        this.selector = Selector.open();
        out.configureBlocking(false);
        in.configureBlocking(false);
        outKey = out.register(selector, 0);
        inKey = out == in ? outKey : in.register(selector, 0);
    }

    @Override
    public long send(Frame.Out frame) throws IOException {
        return ((GatheringByteChannel) out).write(frame.parts);
    }

    @Override
    public long receive(Frame.In frame) throws IOException {
        ReadableByteChannel ch = (ReadableByteChannel) in;
        long moved = 0;
        while (!frame.done()) {
            int got = ch.read(frame.target());
            if (got < 0) {
                throw new EOFException("connection closed by " + from);
            }
            frame.arrived(from);
            if (got == 0) {
                break;
            }
            moved += got;
        }
        return moved;
    }

    @Override
    public void await(boolean send, boolean receive, long millis) throws IOException {
        int outOps = send ? SelectionKey.OP_WRITE : 0;
        int inOps = receive ? SelectionKey.OP_READ : 0;
        if (outKey == inKey) {
            outKey.interestOps(outOps | inOps);
        } else {
            outKey.interestOps(outOps);
            inKey.interestOps(inOps);
        }
        selector.select(millis);
        selector.selectedKeys().clear();
    }

    @Override
    public void close() throws IOException {
        outKey.cancel();
        inKey.cancel();
        selector.selectNow();
        selector.close();
        out.configureBlocking(true);
        in.configureBlocking(true);
    }
}
