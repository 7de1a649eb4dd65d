package siameseim.metrics;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import siameseim.events.Event;
import siameseim.events.EventCodec;
import siameseim.files.UserFiles;

/**
 * Where rank 0 of a training run reports its events: each goes to the driver at once
 * ({@code live}); steps and evaluations are also kept and, at every checkpoint, written under the
 * run's output as {@code metrics/steps-FROM-TO.jsonl} (one part file per interval: S3 has no
 * appends), a TensorBoard event file of the same interval, and the PNG plots of the whole run so
 * far (rebuilt from the earlier metrics files after a resume). Other ranks report nothing.
 */
public final class MetricsSink implements Consumer<Event> {
    private static final Pattern METRICS_FILE = Pattern.compile("steps-(\\d+)-(\\d+)\\.jsonl");
    private final Configuration hadoop;
    private final Path output;
    private final boolean reporting;
    private final String title;
    private final Consumer<String> live;
    private final Consumer<String> log;
    private final List<Event> kept = new ArrayList<>();
    private final List<TensorBoardEvents.Scalar> scalars = new ArrayList<>();
    private final MetricsHistory history = new MetricsHistory();
    private long from;

    /**
     * @param output the run's folder, or null for a run without output
     * @param reporting whether this replica reports (rank 0)
     * @param from the step the run starts or resumes at
     * @param live the channel to the driver (one JSON line per event)
     */
    public MetricsSink(Configuration hadoop, String output, boolean reporting, long from, String title,
            Consumer<String> live, Consumer<String> log) {
        this.hadoop = hadoop;
        this.output = output == null ? null : new Path(output);
        this.reporting = reporting;
        this.from = from;
        this.title = title;
        this.live = live;
        this.log = log;
        if (reporting && from > 0 && this.output != null) {
            try {
                read(hadoop, this.output, from).forEach(history::add);
            } catch (IOException e) {
                log.accept("could not read earlier metrics under " + this.output + "/metrics: " + e.getMessage());
            }
        }
    }

    @Override
    public void accept(Event e) {
        if (!reporting) {
            return;
        }
        live.accept(EventCodec.encode(e));
        if (e instanceof Event.Step || e instanceof Event.Evaluation) {
            kept.add(e);
            scalars.addAll(history.add(e));
        }
    }

    /** Writes the events of steps (from, to] and refreshes TensorBoard and the plots. */
    public void flush(long to) {
        if (!reporting || output == null) {
            return;
        }
        Path p = new Path(output, String.format(Locale.ROOT, "metrics/steps-%010d-%010d.jsonl", from, to));
        try (OutputStream out = UserFiles.create(p, hadoop)) {
            for (Event e : kept) {
                out.write((EventCodec.encode(e) + "\n").getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            log.accept("could not write metrics " + p + ": " + e.getMessage());
        }
        try {
            Path events = new Path(output, String.format(Locale.ROOT,
                    "tensorboard/events.out.tfevents.%010d.siameseim", from));
            // without a ".crc" side file: TensorBoard would also read it (its name contains "tfevents")
            try (OutputStream os = UserFiles.create(events, hadoop)) {
                os.write(TensorBoardEvents.file(scalars, System.currentTimeMillis() / 1000.0));
            }
            TrainingPlots.write(history, hadoop, new Path(output, "plots"), title);
        } catch (IOException | RuntimeException e) {
            log.accept("could not write TensorBoard events or plots under " + output + ": " + e.getMessage());
        }
        kept.clear();
        scalars.clear();
        from = to;
    }

    /**
     * The events of the metrics files under {@code runOutput}/metrics that end at or before
     * {@code upTo}, in step order; none when the folder does not exist.
     */
    public static List<Event> read(Configuration hadoop, Path runOutput, long upTo) throws IOException {
        List<Event> out = new ArrayList<>();
        Path dir = new Path(runOutput, "metrics");
        FileSystem fs = dir.getFileSystem(hadoop);
        if (!fs.exists(dir)) {
            return out;
        }
        List<Path> files = new ArrayList<>();
        for (FileStatus st : fs.listStatus(dir)) {
            Matcher mt = METRICS_FILE.matcher(st.getPath().getName());
            if (mt.matches() && Long.parseLong(mt.group(2)) <= upTo) {
                files.add(st.getPath());
            }
        }
        files.sort(Comparator.comparing(Path::getName));
        for (Path f : files) {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(fs.open(f), StandardCharsets.UTF_8))) {
                String line;
                int n = 0;
                while ((line = r.readLine()) != null) {
                    n++;
                    try {
                        Event e = EventCodec.decode(line);
                        if (e != null) {
                            out.add(e);
                        }
                    } catch (IllegalArgumentException bad) {
                        throw new IOException(f + " line " + n + ": " + bad.getMessage(), bad);
                    }
                }
            }
        }
        return out;
    }
}
