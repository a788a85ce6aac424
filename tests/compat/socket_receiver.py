# Python 3 port of the tutorial's socket_receiver.py (WallarooLabs/wallaroo_blog_examples,
# twitter-trending-hashtags), kept as close to the original as Python 3 allows. Changes:
#  * TCP_IP, TCP_PORT and the dashboard URL may be overridden by optional command-line
#    arguments (port, url) or the env vars RECEIVER_PORT and DASHBOARD_URL (defaults as the
#    original: localhost:7002, http://localhost:5003/updateDashboard), so tests use free ports.
#  * socket.recv returns bytes in Python 3: they are decoded as UTF-8 with an incremental
#    decoder (a multi-byte character may be cut between two reads), and buffer is a str.
#  * SO_REUSEADDR is set so that tests can restart it on the same port.
#  * print() flushes, so logs show up in the test's log file.
import ast
import codecs
import os
import socket
import sys

import requests

TCP_IP = "localhost"
TCP_PORT = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("RECEIVER_PORT", "7002"))
URL = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("DASHBOARD_URL", "http://localhost:5003/updateDashboard")
conn = None
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((TCP_IP, TCP_PORT))
s.listen(1)
print("Waiting for TCP connection...", flush=True)
conn, addr = s.accept()
print("Connected... Waiting for data....", flush=True)

decoder = codecs.getincrementaldecoder("utf-8")()
buffer = ""
while True:
    data = conn.recv(5000)
    if not data:
        print("no data received", flush=True)
        break
    buffer += decoder.decode(data)
    while True:
        # check if the separator doesn't exist then continue fetching data from network to the buffer
        if ';;' not in buffer:
            break
        # split the buffer data by the separator to extract the full complete data
        # and put the remaining text again in the buffer
        full_message, separator, buffer = buffer.partition(';;')

        # initialize and send the data through REST API
        url = URL

        # replace some escaping characters that have been added to the data while conversion
        full_message = full_message.replace("\'", "'").replace("\\\\", "\\")
        # send the data to the RESTful Webservice as a dictionary
        response = requests.post(url, data=ast.literal_eval(full_message))
