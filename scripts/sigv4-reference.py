#!/usr/bin/env python3
# Prints AWS Signature V4 values computed by botocore (pip install botocore), the independent
# source of the expected values in Tests/EsteiraS3Tests/SigV4Tests.swift. The first, third and
# fourth also appear in the Amazon S3 documentation ("Signature Calculations for the Authorization
# Header"), with the same example keys and the date 2013-05-24.
import datetime, sys
from unittest import mock
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
def sign(method, url, headers, body=b'', token=None):
    creds = Credentials('AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', token)
    req = AWSRequest(method=method, url=url, headers=headers, data=body)
    with mock.patch('botocore.auth.get_current_datetime', return_value=datetime.datetime(2013,5,24,0,0,0)):
        S3SigV4Auth(creds, 's3', 'us-east-1').add_auth(req)
    return req.headers['Authorization'], req.headers['X-Amz-Content-SHA256']
print(sign('GET', 'https://examplebucket.s3.amazonaws.com/test.txt', {'Range': 'bytes=0-9'}))
print(sign('PUT', 'https://examplebucket.s3.amazonaws.com/test$file.text', {'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'Date': 'Fri, 24 May 2013 00:00:00 GMT'}, b'Welcome to Amazon S3.'))
print(sign('GET', 'https://examplebucket.s3.amazonaws.com/?lifecycle', {}))
print(sign('GET', 'https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J', {}))
print(sign('POST', 'http://127.0.0.1:9000/bucket/raw/c%C3%A7/a%20b?uploads', {}, b'', 'SESSION/TOKEN+='))
print(sign('PUT', 'http://127.0.0.1:9000/bucket/key?partNumber=2&uploadId=abc%2Fdef', {}, b'part'))
