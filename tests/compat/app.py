# Python 3 port of the tutorial's Flask app.py (WallarooLabs/wallaroo_blog_examples,
# twitter-trending-hashtags), kept as close to the original as Python 3 and Flask 2.2 allow.
# Changes:
#  * The port may be overridden by an optional command-line argument or the env var
#    DASHBOARD_PORT (default as the original: 5003 on localhost).
#  * static/ is served from Debian's /usr/share/javascript (libjs-chart.js, libjs-jquery) so the
#    page loads Chart.js and jQuery locally instead of a downloaded copy and a CDN; see
#    templates/index.html for the page's own changes.
#  * The original's behaviour is kept on purpose, bugs included: GET / resets the data, and a
#    label that is not a literal makes a 500.
import os
import sys

from flask import Flask, jsonify, request
from flask import render_template
import ast

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("DASHBOARD_PORT", "5003"))

app = Flask(__name__, static_folder="/usr/share/javascript", static_url_path="/static")

hashtags = []
counts = []


@app.route("/")
def get_chart():
    global hashtags, counts
    hashtags = []
    counts = []
    return render_template('index.html', counts_data=counts, hashtags_data=hashtags)


@app.route('/refreshDashboard')
def refresh_graph_data():
    global hashtags, counts
    return jsonify(r_hashtags=hashtags, r_counts=counts)


@app.route('/updateDashboard', methods=['POST'])
def update_data_post():
    global hashtags, counts
    if not request.form or 'data' not in request.form:
        return "error: no data", 400
    hashtags = ast.literal_eval(request.form['label'])
    counts = ast.literal_eval(request.form['data'])
    return "success", 201


if __name__ == "__main__":
    app.run(host='localhost', port=PORT)
