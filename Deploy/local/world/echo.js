// The test world's echo endpoint: answers a request with its method, content type and body, so
// HTTPFetch's POST is checked against what a real server received.
function echo(r) {
    r.headersOut['Content-Type'] = 'application/octet-stream';
    r.headersOut['X-Echo-Method'] = r.method;
    r.headersOut['X-Echo-Content-Type'] = r.headersIn['Content-Type'] || '';
    r.headersOut['X-Echo-User-Agent'] = r.headersIn['User-Agent'] || '';
    r.return(200, r.requestText || '');
}

// A body of 2 MiB sent in chunks without a Content-Length, so a size limit must be enforced while reading.
function stream(r) {
    r.status = 200;
    r.headersOut['Content-Type'] = 'application/octet-stream';
    r.sendHeader();
    const chunk = 'x'.repeat(65536);
    for (let i = 0; i < 32; i++) {
        r.send(chunk);
    }
    r.finish();
}

export default { echo, stream };
