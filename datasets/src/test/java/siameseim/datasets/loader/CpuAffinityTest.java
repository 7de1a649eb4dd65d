package siameseim.datasets.loader;

import static siameseim.datasets.testing.Cpus.assumeLinux;
import static siameseim.datasets.testing.Cpus.kernelCpuList;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import siameseim.config.ConfigLoader;
import siameseim.host.CpuAffinity;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.synthetic.SyntheticShapes;
import siameseim.batch.SiameseBatch;

class CpuAffinityTest {

    @Test
    void formatsCpuListsAsTheKernelDoes() {
        BitSet s = new BitSet();
        s.set(0, 4);
        s.set(6);
        s.set(9, 11);
        assertEquals("0-3,6,9-10", CpuAffinity.format(s));
        assertEquals("", CpuAffinity.format(new BitSet()));
    }

    @Test
    void pinsTheCallingThreadAndRestoresIt() throws Exception {
        assumeLinux();
        BitSet all = CpuAffinity.ofCurrentThread();
        assertEquals(kernelCpuList(), CpuAffinity.format(all), "reads the mask the kernel reports");
        int last = all.length() - 1;
        AtomicReference<String> seen = new AtomicReference<>();
        AtomicReference<String> child = new AtomicReference<>();
        Thread t = new Thread(() -> {
            BitSet one = new BitSet();
            one.set(last);
            try {
                seen.set(CpuAffinity.setForCurrentThread(one) + " " + kernelCpuList());
                // a thread started by a pinned thread inherits its mask (how OpenMP workers follow)
                Thread c = new Thread(() -> {
                    try {
                        child.set(kernelCpuList());
                    } catch (IOException e) {
                        child.set(e.toString());
                    }
                });
                c.start();
                c.join();
                assertNull(CpuAffinity.setForCurrentThread(all));
                seen.set(seen.get() + " " + kernelCpuList());
            } catch (IOException | InterruptedException e) {
                seen.set(e.toString());
            }
        });
        t.start();
        t.join();
        assertEquals("null " + last + " " + CpuAffinity.format(all), seen.get());
        assertEquals(Integer.toString(last), child.get());
        assertEquals(CpuAffinity.format(all), kernelCpuList(), "other threads keep their mask");
    }

    @Test
    void refusesCpusTheProcessMayNotUseAndLeavesTheMask() throws Exception {
        assumeLinux();
        String before = kernelCpuList();
        BitSet outside = new BitSet();
        outside.set(1000);
        String why = CpuAffinity.setForCurrentThread(outside);
        assertNotNull(why);
        assertEquals(before, kernelCpuList());
        assertNotNull(CpuAffinity.setForCurrentThread(new BitSet()), "an empty set is refused");
    }

    @Test
    void loaderWorkersRunOnTheCpusTheirSetupGives() throws Exception {
        assumeLinux();
        BitSet all = CpuAffinity.ofCurrentThread();
        BitSet first = new BitSet();
        first.set(all.nextSetBit(0));
        AtomicReference<String> inWorker = new AtomicReference<>();
        SiameseAssembler real = new SiameseAssembler(new TwoViewAugmenter(
                ConfigLoader.loadPretrain("pretrain-demo.conf", List.of())));
        BatchAssembler<SiameseBatch> probe = (images, labels, rngs, batchRng) -> {
            try {
                inWorker.set(kernelCpuList());
            } catch (IOException e) {
                inWorker.set(e.toString());
            }
            return real.assemble(images, labels, rngs, batchRng);
        };
        try (BatchLoader<SiameseBatch> loader = new BatchLoader<>(new InMemorySource(SyntheticShapes.dataset(4, 0, 10,
                24, 3)), probe, null, 8, 1, 0, 1, 9, 0, 1, 1, () -> CpuAffinity.setForCurrentThread(first), null)) {
            loader.next();
            assertNull(loader.setupRefused());
        }
        assertEquals(CpuAffinity.format(first), inWorker.get());
    }
}
