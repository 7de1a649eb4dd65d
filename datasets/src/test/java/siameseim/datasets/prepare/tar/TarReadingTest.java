package siameseim.datasets.prepare.tar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import siameseim.datasets.prepare.InputImage;
import siameseim.datasets.testing.TestImages;

/**
 * Tars as the real tools write them (fixtures/tar: GNU tar in gnu and pax format, Python's tarfile
 * in PAX and GNU format, made by make-tars.sh), read member by member, grouped as WebDataset
 * samples, indexed by headers, and cut short at every kind of place.
 */
class TarReadingTest {
    static final String LONG = "samples/" + "a".repeat(120);

    static byte[] fixture(String name) throws IOException {
        return TestImages.fixture("tar/" + name);
    }

    static List<TarMembers.Member> members(byte[] tar, TarMembers[] reader) {
        TarMembers m = new TarMembers(new ByteArrayInputStream(tar));
        reader[0] = m;
        List<TarMembers.Member> out = new ArrayList<>();
        TarMembers.Member x;
        while ((x = m.next()) != null) {
            out.add(x);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gnu.tar", "pax.tar", "python-pax.tar", "python-gnu.tar"})
    void everyWriterReadsTheSameFilesWithoutDirectoriesOrAppleDouble(String name) throws IOException {
        TarMembers[] r = new TarMembers[1];
        List<TarMembers.Member> files = members(fixture(name), r);
        assertNull(r[0].cutShort(), "a whole archive");
        assertEquals(List.of("samples/000001.cls", "samples/000001.jpg", "samples/000001.json", "samples/000002.cls",
                "samples/000002.png", "samples/000003.cls", "samples/000003.jpg", LONG + ".cls", LONG + ".jpg"),
                files.stream().map(TarMembers.Member::name).toList());
        assertArrayEquals(TestImages.fixture("good.jpg"), files.get(1).bytes());
        assertArrayEquals(TestImages.fixture("good.jpg"), files.get(8).bytes(), "the long name's data");

        List<InputImage> samples = new ArrayList<>();
        new WebDatasetSamples(new TarMembers(new ByteArrayInputStream(fixture(name))), name, "train", null)
                .forEachRemaining(samples::add);
        assertEquals(List.of(name + "/samples/000001.jpg", name + "/samples/000002.png", name + "/samples/000003.jpg",
                name + "/" + LONG + ".jpg"), samples.stream().map(InputImage::key).toList());
        assertEquals(Arrays.asList("3", "1", "3", "0"), samples.stream().map(InputImage::wnid).toList());
        assertArrayEquals(TestImages.fixture("png-named.JPEG"), samples.get(1).image());

        List<InputImage> byJson = new ArrayList<>();
        new WebDatasetSamples(new TarMembers(new ByteArrayInputStream(fixture(name))), name, "train", "label")
                .forEachRemaining(byJson::add);
        assertEquals(Arrays.asList("cat", null, null, null), byJson.stream().map(InputImage::wnid).toList(),
                "the JSON field where the sample has it, no label where not");
        List<InputImage> nested = new ArrayList<>();
        new WebDatasetSamples(new TarMembers(new ByteArrayInputStream(fixture(name))), name, "train", "meta.id")
                .forEachRemaining(nested::add);
        assertEquals("7", nested.get(0).wnid());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gnu.tar", "pax.tar", "python-pax.tar", "python-gnu.tar"})
    void theHeaderIndexFindsEachMembersBytes(String name, @TempDir Path tmp) throws IOException {
        byte[] tar = fixture(name);
        Path file = tmp.resolve(name);
        Files.write(file, tar);
        TarIndex.Listing idx = TarIndex.list(new Configuration(), new org.apache.hadoop.fs.Path(file.toUri()));
        assertEquals(9, idx.entries().size());
        TarMembers[] r = new TarMembers[1];
        List<TarMembers.Member> files = members(tar, r);
        for (int i = 0; i < 9; i++) {
            TarIndex.Entry e = idx.entries().get(i);
            assertEquals(files.get(i).name(), e.name());
            assertArrayEquals(files.get(i).bytes(), Arrays.copyOfRange(tar, (int) e.offset(),
                    (int) (e.offset() + e.size())));
        }
        assertTrue(idx.bytesRead() < tar.length, idx.bytesRead() + " bytes read");
    }

    @Test
    void theIndexReadsHeadersNotData(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("big.tar");
        try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(
                Files.newOutputStream(file))) {
            for (int i = 0; i < 3; i++) {
                var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("n0000000" + i + ".tar");
                e.setSize(4 << 20);
                out.putArchiveEntry(e);
                out.write(new byte[4 << 20]);
                out.closeArchiveEntry();
            }
        }
        TarIndex.Listing idx = TarIndex.list(new Configuration(), new org.apache.hadoop.fs.Path(file.toUri()));
        assertEquals(3, idx.entries().size());
        assertTrue(idx.bytesRead() <= 8 * 512, "12 MiB indexed reading " + idx.bytesRead() + " bytes");
    }

    @Test
    void aTarCutShortAnywhereIsReportedAfterTheMembersBeforeTheCut(@TempDir Path tmp) throws IOException {
        byte[] tar = fixture("gnu.tar");
        // every record boundary and a few places inside headers and data
        for (int cut = 0; cut < 6144; cut += 97) {
            byte[] part = Arrays.copyOf(tar, cut);
            TarMembers[] r = new TarMembers[1];
            List<TarMembers.Member> files = members(part, r);
            assertNotNull(r[0].cutShort(), "cut at " + cut + " after " + files.size() + " files");
            for (TarMembers.Member m : files) {
                assertEquals(m.size(), m.bytes().length, "members before the cut are whole");
            }
            List<InputImage> samples = new ArrayList<>();
            new WebDatasetSamples(new TarMembers(new ByteArrayInputStream(part)), "s.tar", "train", null)
                    .forEachRemaining(samples::add);
            InputImage last = samples.get(samples.size() - 1);
            assertEquals(InputImage.TAR_CUT_SHORT, last.badReason(), "cut at " + cut);
            assertEquals("s.tar", last.key());
        }
        Path file = tmp.resolve("cut.tar");
        Files.write(file, Arrays.copyOf(tar, 3000));
        IOException e = assertThrows(IOException.class,
                () -> TarIndex.list(new Configuration(), new org.apache.hadoop.fs.Path(file.toUri())));
        assertTrue(e.getMessage().contains("cut.tar"), e.getMessage());
    }

    @Test
    void samplesAreConsecutiveMembersWithOneKey() {
        assertArrayEquals(new String[] {"a/b.c/x", "seg.png"}, WebDatasetSamples.keyAndExtension("a/b.c/x.seg.PNG"));
        assertNull(WebDatasetSamples.keyAndExtension("dir/noext"));
        assertNull(WebDatasetSamples.keyAndExtension("dir/.hidden"));
        assertEquals(List.of("s-000.tar", "s-001.tar", "s-002.tar"), ShardPattern.expand("s-{000..002}.tar"));
        assertEquals(List.of("a/t-8.tar", "a/t-9.tar", "b/t-8.tar", "b/t-9.tar"),
                ShardPattern.expand("{a,b}/t-{8..9}.tar"));
    }
}
