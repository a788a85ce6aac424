# The original application module of the 2017 tutorial "Identifying Trending Twitter Hashtags
# in Real-time with Wallaroo" (WallarooLabs/wallaroo_blog_examples, twitter-trending-hashtags/
# twitter_wallaroo_app.py, Python 2.7 + Wallaroo 0.2.2), ported to Python 3 + Debian's pandas 1.5.
#
# The code below is the seed's code; every line that differs carries a "PORT:" comment saying
# why. This module is the reference the C++ engine is compared against byte for byte: run it
# with tests/compat/machida.py (a live TCP server) or tests/compat/reference.py (offline).
#
# Facts checked with pandas 1.5.3 / numpy 1.24 (see tests/compat/README.md):
# * The 'Counts' column stays int64 through .loc enlargement, and to_dict() yields Python
#   ints, so str([...]) prints '[2, 1]' (no numpy scalars, no floats).
# * nlargest(10, 'Counts') orders by count descending and breaks ties by row position, i.e. by
#   the order in which hashtags were first seen. That holds for any n <= 16; for n >= 17 it
#   does not while the state holds 17..n hashtags (pandas then falls back to an unstable
#   numpy quicksort), which only matters for a --top above 16.

import struct
import wallaroo
import pandas as pd


class Decoder(object):
    def header_length(self):
        return 5

    def payload_length(self, bs):
        # PORT: unchanged. Python 3's int() accepts bytes, as Python 2's did with str. Note that
        # int() also accepts surrounding white space, a sign and (Python 3.6+) '_' between
        # digits, so b' 0016', b'+0016' and b'1_000' are lengths here; the C++ engine insists on
        # 5 ASCII digits, so the end-to-end tests never send such headers.
        return int(struct.unpack("!5s", bs)[0])

    def decode(self, bs):
        # PORT: unchanged. bytes.decode("utf-8") is strict in Python 3 (it raises on invalid
        # UTF-8 and on encoded surrogates); the host (machida.py) skips that one message.
        return bs.decode("utf-8")


class HashtagFinder(object):
    def name(self):
        return "HashtagFinder"

    def compute_multi(self, data):
        # PORT: unchanged. Python 3 str.split() splits on the Unicode white space of
        # str.isspace(); strip() uses the same set, so it never changes a token.
        return [word.strip() for word in data.split() if word[0] == '#']


class HashtagCounts(object):

    def __init__(self):
        self.hashtags_df = pd.DataFrame(columns=['Hashtag','Counts'])
        # We want to be addressing by Hashtag most frequently
        self.hashtags_df = self.hashtags_df.set_index(['Hashtag'])
        # Counts is an int
        self.hashtags_df['Counts'] = self.hashtags_df['Counts'].astype('int')

    def update(self, hashtag_name, counts):
        # if the hashtag is already exists then add its counts to old counts
        # and if not exists, then add it in the dataframe with its current counts
        curr_count = 0
        if hashtag_name in self.hashtags_df.index:
            curr_count = self.hashtags_df.loc[hashtag_name]
        self.hashtags_df.loc[hashtag_name] = curr_count + counts

    def get_counts(self, n=10):
        # Return from the dataframe a dict of top n hashtags
        # PORT: unchanged. In Python 3 the dict keeps nlargest's order (count descending, ties
        # by first seen); Python 2's dict came out in hash order instead.
        return self.hashtags_df.nlargest(n,'Counts').to_dict()['Counts']

    def get_count(self, c):
        # int is safe to return as is!
        return self.hashtags_df.loc[c]


class HashtagsStateBuilder(object):
    def build(self):
        return HashtagCounts()


class ComputeHashtags(object):
    def name(self):
        return "ComputeHashtags"

    def compute(self, data, state):
        # update the state object with the current data
        state.update(hashtag_name=data, counts=1)
        # returns the top 10 hashtags data from the state object
        return (state.get_counts(), True)


class Encoder(object):
    def encode(self, data):
        # extract the hashtags from dataframe and convert them into array
        # PORT: the seed has str(hashtag.encode("utf-8")). In Python 2 that is the UTF-8 byte
        # string itself; in Python 3 it would be the text "b'...'". The port keeps the str, so
        # the label is Python 3's repr of the text (printable non-ASCII stays raw UTF-8).
        top_tags = [hashtag for hashtag in data]
        # extract the counts from dataframe and convert them into array
        tags_count = [data[hashtag] for hashtag in data]
        # transform the data to be as array of labels and array of counts
        # PORT: unchanged; Python 3.7+ dicts keep insertion order, so 'label' comes first.
        request_data = {'label': str(top_tags), 'data': str(tags_count)}
        # return the data to TCP connection along with a special separator
        # PORT: unchanged; a str, which the host (machida.py) writes as UTF-8.
        return str(request_data) + ';;\n'


def application_setup(args):
    in_host, in_port = wallaroo.tcp_parse_input_addrs(args)[0]
    out_host, out_port = wallaroo.tcp_parse_output_addrs(args)[0]
    ab = wallaroo.ApplicationBuilder("Trending Hashtags")
    ab.new_pipeline("Tweets_new", wallaroo.TCPSourceConfig(in_host, in_port, Decoder() ))
    ab.to(HashtagFinder)
    ab.to_stateful(ComputeHashtags(), HashtagsStateBuilder(), "hashtags state")
    ab.to_sink(wallaroo.TCPSinkConfig(out_host, out_port, Encoder()))
    return ab.build()
