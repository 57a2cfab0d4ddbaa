"""CyberTipline-shaped sample reports (reserved identifiers only)."""

from __future__ import annotations

GOOD_REPORT = """
  <report>
    <reportId>CT-1001</reportId>
    <incidentSummary>
      <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
      <escalateToHighPriority>Reporter believes a child is at risk</escalateToHighPriority>
      <reportAnnotations><sextortion/></reportAnnotations>
      <incidentDateTime>2026-10-02T08:15:00Z</incidentDateTime>
    </incidentSummary>
    <reporter>
      <reportingPerson><email>trust@example.org</email></reportingPerson>
      <companyTemplate>Example Chat</companyTemplate>
    </reporter>
    <personOrUserReported>
      <personOrUserReportedPerson>
        <firstName>Sample</firstName><lastName>Person</lastName>
        <email>Sample.Person@EXAMPLE.com</email>
        <phone>07700 900123</phone>
        <address><address>1 Example Street</address><city>Leeds</city><zipCode>ls11aa</zipCode></address>
      </personOrUserReportedPerson>
      <espIdentifier>u-7781</espIdentifier>
      <screenName>@Sample_P</screenName>
      <ipCaptureEvent>
        <ipAddress>198.51.100.23</ipAddress><eventName>Upload</eventName>
        <dateTime>2026-10-02T08:14:00Z</dateTime><port>51234</port>
      </ipCaptureEvent>
      <deviceId><idType>IMEI</idType><idValue>35-209900-176148-1</idValue></deviceId>
      <estimatedLocation><city>Leeds</city><region>West Yorkshire</region><countryCode>GB</countryCode></estimatedLocation>
    </personOrUserReported>
    <fileDetails>
      <originalFileName>a.jpg</originalFileName>
      <industryClassification>A1</industryClassification>
      <fileAnnotations><viral/></fileAnnotations>
      <originalFileHash hashType="MD5">D41D8CD98F00B204E9800998ECF8427E</originalFileHash>
    </fileDetails>
  </report>
"""

BAD_TIME_REPORT = """
  <report>
    <reportId>CT-1002</reportId>
    <incidentSummary>
      <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
      <incidentDateTime>2026-10-02T08:15:00</incidentDateTime>
    </incidentSummary>
    <personOrUserReported><espIdentifier>u-1</espIdentifier></personOrUserReported>
  </report>
"""

BAD_HASH_REPORT = """
  <report>
    <reportId>CT-1003</reportId>
    <incidentSummary>
      <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
      <incidentDateTime>2026-10-02T08:15:00Z</incidentDateTime>
    </incidentSummary>
    <personOrUserReported><espIdentifier>u-2</espIdentifier><espService>Example Chat</espService></personOrUserReported>
    <fileDetails><originalFileHash hashType="MD5">abc</originalFileHash></fileDetails>
  </report>
"""


def batch(*reports: str) -> str:
    return "<?xml version='1.0' encoding='UTF-8'?>\n<reports>" + "".join(reports) + "</reports>\n"
