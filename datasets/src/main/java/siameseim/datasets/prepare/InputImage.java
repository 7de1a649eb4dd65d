package siameseim.datasets.prepare;

import java.io.IOException;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;

/**
 * An input image whose bytes were read where it was found (a table row, a tar member), or an
 * input found bad while reading it (a tar cut short, a sample without an image), which the task
 * reports under {@code badReason}.
 *
 * @param wnid its class, null when it has none
 */
public record InputImage(String split, String wnid, String key, byte[] image, String badReason, String badDetail)
        implements PrepareTask.Item, Serializable {

    /** The reason a tar that ends early is reported under (its members before the cut are kept). */
    public static final String TAR_CUT_SHORT = "TAR_CUT_SHORT";

    public static InputImage of(String split, String wnid, String key, byte[] image) {
        return new InputImage(split, wnid, key, image == null ? new byte[0] : image, null, null);
    }

    public static InputImage bad(String split, String key, String reason, String detail) {
        return new InputImage(split, null, key, null, reason, detail);
    }

    @Override
    public byte[] bytes(Configuration conf) throws IOException {
        if (badReason != null) {
            throw new BadInput(badReason, badDetail);
        }
        return image;
    }

    /** An input that was found bad before its task saw it, with the reason to report. */
    public static final class BadInput extends IOException {
        private static final long serialVersionUID = 1L;
        private final String reason;

        public BadInput(String reason, String detail) {
            super(detail);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }
}
