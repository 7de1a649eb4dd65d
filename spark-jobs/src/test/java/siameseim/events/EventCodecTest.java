package siameseim.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventCodecTest {
    static final List<Event> EVERY_KIND = List.of(
            new Event.Step(7, 0.25, 1.5, 0.4, 12.0, 1e-3, 0.996, 0.7, false, 128, 300, 20, 4, 1, 290, 1000.5),
            new Event.Step(8, 0.5, 2.0, Double.NaN, Double.NaN, 1e-3, Double.NaN, 0.7, true, 64, 10, 0, Double.NaN,
                    Double.NaN, Double.NaN, 1001.0),
            new Event.Evaluation(Event.Evaluation.Protocol.KNN, 20, 1.0, 0.5, 0.9, 500, 1002.0),
            new Event.Evaluation(Event.Evaluation.Protocol.FINETUNE, 30, 2.0, 0.75, 0.95, 100, 1003.0),
            new Event.Checkpoint(30, "hdfs://nn/runs/a/checkpoints/ckpt-0000000030.safetensors"),
            new Event.Resumed(30, "s3a://bucket/ckpt-0000000030.safetensors", "the run's newest good checkpoint"),
            new Event.Preflight(1_500_000, 0.92, 1.49, 2),
            new Event.StepTiming(385, 27.1),
            new Event.Placement("training threads on CPU 0"),
            new Event.Fault("3", 412, "Executor killed", 400));

    @Test
    void everyKindOfEventSurvivesItsLine() {
        List<String> types = new ArrayList<>();
        for (Event e : EVERY_KIND) {
            String line = EventCodec.encode(e);
            assertFalse(line.contains("\n"), line);
            assertEquals(e, EventCodec.decode(line), line);
            types.add(line.substring(9, line.indexOf('"', 9)));
        }
        assertEquals(List.of("step", "step", "knn", "eval", "checkpoint", "resumed", "preflight", "step-timing",
                "placement", "fault"), types);
    }

    @Test
    void valuesATrainerDoesNotHaveAreLeftOutAndReadBackAsNaN() {
        String line = EventCodec.encode(EVERY_KIND.get(1));
        assertFalse(line.contains("pos") || line.contains("momentum") || line.contains("sync_ms"), line);
        assertTrue(Double.isNaN(((Event.Step) EventCodec.decode(line)).pos()));
    }

    @Test
    void metricsFilesOfEarlierRunsStillRead() {
        // a step line as written before the records existed: no sync/load/cpu fields
        Event.Step s = (Event.Step) EventCodec.decode("{\"type\":\"step\",\"step\":3,\"epoch\":0.1,\"loss\":0.9,"
                + "\"lr\":1e-4,\"grad_norm\":0.5,\"skipped\":false,\"images\":128,\"compute_ms\":300.0,"
                + "\"allreduce_ms\":20.0,\"time\":1700000000.5}");
        assertEquals(3, s.step());
        assertEquals(128, s.images());
        assertTrue(Double.isNaN(s.syncMs()));
    }

    @Test
    void unknownTypesAreSkippedAndOtherLinesNamed() {
        assertNull(EventCodec.decode("{\"type\":\"from-a-newer-build\",\"x\":1}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EventCodec.decode("loss 0.5"));
        assertTrue(e.getMessage().contains("loss 0.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EventCodec.decode("{\"type\":\"checkpoint\"}"));
        assertTrue(e.getMessage().contains("malformed"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EventCodec.decode("{\"step\":1}"));
    }

    @Test
    void theConsoleNamesEachEvent() {
        List<String> out = new ArrayList<>();
        Console c = new Console("pretrain", 10, 5, 1e9, out::add);
        EVERY_KIND.forEach(c);
        assertTrue(out.stream().anyMatch(l -> l.startsWith("[pretrain] step 20: kNN top-1 50.00%")), out.toString());
        assertTrue(out.stream().anyMatch(l -> l.startsWith("[pretrain] epoch 2: top-1 75.00%")), out.toString());
        assertTrue(out.stream().anyMatch(l -> l.contains("executor 3 lost at step 412")
                && l.contains("the checkpoint of step 400")), out.toString());
        assertTrue(out.stream().anyMatch(l -> l.contains("bus bandwidth 1.49 GiB/s")), out.toString());
        assertEquals(0, out.stream().filter(l -> l.contains("img/s")).count(), "steps between progress lines");
        c.accept(new Event.Step(10, 2.0, 0.5, Double.NaN, Double.NaN, 1e-4, Double.NaN, 0.1, false, 128, 1, 0,
                Double.NaN, Double.NaN, Double.NaN, 1005.0));
        assertTrue(out.get(out.size() - 1).startsWith("[pretrain] epoch   2.00/2  step     10/10  loss 0.5000"),
                out.get(out.size() - 1));
    }
}
