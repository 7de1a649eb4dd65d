package siameseim.datasets.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/** Reads run ahead on several threads, yet items come out in input order, each with its bytes or its error. */
class ReadAheadTest {

    private record Slow(String key, long delayMicros, boolean fails) implements PrepareTask.Item {
        @Override
        public String split() {
            return "train";
        }

        @Override
        public String wnid() {
            return "c";
        }

        @Override
        public byte[] bytes(Configuration conf) throws IOException {
            try {
                Thread.sleep(delayMicros / 1000, (int) (delayMicros % 1000) * 1000);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            if (fails) {
                throw new IOException("cannot read " + key);
            }
            return key.getBytes();
        }
    }

    @Test
    void itemsComeOutInInputOrderWithTheirBytesOrErrors() throws Exception {
        SplittableRandom rng = new SplittableRandom(1);
        List<Slow> items = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            items.add(new Slow("k" + i, rng.nextInt(2000), i % 37 == 5));
        }
        for (int depth : new int[] {1, 16}) {
            try (ReadAhead ahead = new ReadAhead(items.iterator(), depth, new Configuration(false))) {
                for (int i = 0; i < items.size(); i++) {
                    ReadAhead.Fetched f = ahead.next();
                    assertEquals("k" + i, f.item().key(), "depth " + depth);
                    if (i % 37 == 5) {
                        assertNull(f.bytes());
                        assertEquals("cannot read k" + i, f.error().getMessage());
                    } else {
                        assertArrayEquals(("k" + i).getBytes(), f.bytes());
                    }
                }
                assertEquals(false, ahead.hasNext());
            }
        }
    }
}
