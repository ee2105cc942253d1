"""Data behind the console's timetable, log and report pages, and their exports.

Keyword-only functions over a session (or an engine where a week of programmes is needed), in
the style of scheduling.store. Storage is UTC; everything an officer reads is in the station's
zone and in Vietnamese (broadcaster.localtime). Nothing here imports the station or the web
layer: the pages, the CLI or a script can call the same functions. One module per concern:

* topics: the editable list of the communication plan's topics (seeded on first use);
* log: the as-run log with filters and pagination, CSV and XLSX export; receiver_log: the clusters'
  uploaded logs (issue 14); paging: the page numbers both log pages share;
* report: airings and minutes on air by class, by topic and by kind for a month or quarter,
  and its exports for the district/province; chart: its inline SVG bar chart;
* week: what each slot of a week airs (programme, length, overflow, render problems) or,
  for occurrences already past, what the as-run log says aired;
* cells: the small value helpers the exports share.

Web-form slot editing lives with the timetable store (scheduling.store); the indexes and the
class trigger the log relies on are made by the database migrations (broadcaster/migrations).
"""
