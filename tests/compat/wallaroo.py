"""A minimal stand-in for the Python API of Wallaroo 0.2.2 (the `wallaroo` module machida loads).

Only what tests/compat/twitter_wallaroo_app.py needs: the application builder records the
topology as a list of actions, exactly the shape machida expects back from application_setup(),
and tests/compat/machida.py runs it. Written for this project from the API's documented
behaviour; no Wallaroo code is used.
"""
import argparse


class ApplicationBuilder(object):
    """Records the topology: ("name", ...), ("new_pipeline", ...), ("to", ...), ... in order."""

    def __init__(self, name):
        self._actions = [("name", name)]

    def new_pipeline(self, name, source_config):
        self._actions.append(("new_pipeline", name, source_config.to_tuple()))
        return self

    def to(self, computation_class):
        # Wallaroo 0.2.2 takes the computation's class (a builder) and instantiates it itself.
        self._actions.append(("to", computation_class))
        return self

    def to_stateful(self, computation, state_builder, state_name):
        self._actions.append(("to_stateful", computation, state_builder, state_name))
        return self

    def to_sink(self, sink_config):
        self._actions.append(("to_sink", sink_config.to_tuple()))
        return self

    def done(self):
        self._actions.append(("done",))
        return self

    def build(self):
        return self._actions


class TCPSourceConfig(object):
    """A TCP source: machida listens on host:port and frames input with the decoder."""

    def __init__(self, host, port, decoder):
        self._host = host
        self._port = port
        self._decoder = decoder

    def to_tuple(self):
        return ("tcp", self._host, self._port, self._decoder)


class TCPSinkConfig(object):
    """A TCP sink: machida connects out to host:port and writes what the encoder returns."""

    def __init__(self, host, port, encoder):
        self._host = host
        self._port = port
        self._encoder = encoder

    def to_tuple(self):
        return ("tcp", self._host, self._port, self._encoder)


def _parse_addrs(args, short, long, dest):
    parser = argparse.ArgumentParser(prog="wallaroo", add_help=False)
    parser.add_argument(short, long, dest=dest, required=True)
    value = getattr(parser.parse_known_args(args)[0], dest)
    # "H1:P1,H2:P2" -> [("H1", "P1"), ("H2", "P2")]; the port stays a string, as in Wallaroo.
    return [tuple(part.rsplit(":", 1)) for part in value.split(",")]


def tcp_parse_input_addrs(args):
    """The --in HOST:PORT[,HOST:PORT...] addresses of a machida command line."""
    return _parse_addrs(args, "-i", "--in", "input_addrs")


def tcp_parse_output_addrs(args):
    """The --out HOST:PORT[,HOST:PORT...] addresses of a machida command line."""
    return _parse_addrs(args, "-o", "--out", "output_addrs")
